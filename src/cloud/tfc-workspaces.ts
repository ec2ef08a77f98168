import {
  list, notificationResource, organizationResource, projectResource, runTriggerResource, single, tagResource, toNotification,
  toOrganization, toProject, toRunTrigger, toVariable, toWorkspace, variableResource, workspaceResource,
  type NotificationConfiguration, type Organization, type Project, type RunTrigger, type Variable, type Workspace,
  type variableCategories,
} from "./tfc-resources.js";
import { allPages, unlessNotFound, type TfcTransport } from "./tfc-transport.js";

const seg = encodeURIComponent;

export class Organizations {
  constructor(private readonly t: TfcTransport) {}

  async get(name: string): Promise<Organization | undefined> {
    const doc = await unlessNotFound(this.t.call("GET", `/organizations/${seg(name)}`, single(organizationResource)));
    return doc && toOrganization(doc.data);
  }

  async create(name: string, email: string): Promise<Organization> {
    const doc = await this.t.call("POST", "/organizations", single(organizationResource), {
      body: { data: { type: "organizations", attributes: { name, email } } },
    });
    return toOrganization(doc.data);
  }

  async delete(name: string): Promise<void> {
    await this.t.call("DELETE", `/organizations/${seg(name)}`);
  }
}

/** What ktf sets on a TFC workspace. Absent fields are left as they are (or the server's default). */
export interface WorkspaceSettings {
  name?: string;
  terraformVersion?: string;
  executionMode?: "remote" | "local" | "agent";
  /** Needed when executionMode is agent. */
  agentPoolId?: string;
  autoApply?: boolean;
  workingDirectory?: string;
  description?: string;
  projectId?: string;
}

function workspaceBody(s: WorkspaceSettings, extra: { id?: string; tags?: readonly string[] } = {}) {
  const relationships: Record<string, unknown> = {};
  if (s.projectId) relationships.project = { data: { type: "projects", id: s.projectId } };
  if (extra.tags?.length) relationships.tags = { data: extra.tags.map((name) => ({ type: "tags", attributes: { name } })) };
  return {
    data: {
      type: "workspaces",
      ...(extra.id ? { id: extra.id } : {}),
      attributes: {
        name: s.name,
        "terraform-version": s.terraformVersion,
        "execution-mode": s.executionMode,
        "agent-pool-id": s.agentPoolId,
        "auto-apply": s.autoApply,
        "working-directory": s.workingDirectory,
        description: s.description,
      },
      ...(Object.keys(relationships).length ? { relationships } : {}),
    },
  };
}

export class Workspaces {
  constructor(private readonly t: TfcTransport) {}

  /** The workspace of that name, or undefined. */
  async byName(organization: string, name: string): Promise<Workspace | undefined> {
    const doc = await unlessNotFound(this.t.call("GET", `/organizations/${seg(organization)}/workspaces/${seg(name)}`, single(workspaceResource)));
    return doc && toWorkspace(doc.data);
  }

  async get(id: string): Promise<Workspace> {
    return toWorkspace((await this.t.call("GET", `/workspaces/${seg(id)}`, single(workspaceResource))).data);
  }

  /** A new workspace; `tags` go in the same request, as TFC's create takes them. */
  async create(organization: string, settings: WorkspaceSettings & { name: string; tags?: readonly string[] }): Promise<Workspace> {
    const doc = await this.t.call("POST", `/organizations/${seg(organization)}/workspaces`, single(workspaceResource), {
      body: workspaceBody(settings, { tags: settings.tags }),
    });
    return toWorkspace(doc.data);
  }

  async update(id: string, settings: WorkspaceSettings): Promise<Workspace> {
    const doc = await this.t.call("PATCH", `/workspaces/${seg(id)}`, single(workspaceResource), { body: workspaceBody(settings, { id }) });
    return toWorkspace(doc.data);
  }

  /** Deletes the workspace and its state whatever it manages (TFC's "force delete"). */
  async delete(id: string): Promise<void> {
    await this.t.call("DELETE", `/workspaces/${seg(id)}`);
  }

  /** Deletes the workspace only if its state manages no resources; TFC answers 409 otherwise. */
  async safeDelete(id: string): Promise<void> {
    await this.t.call("POST", `/workspaces/${seg(id)}/actions/safe-delete`);
  }

  async lock(id: string, reason: string): Promise<Workspace> {
    return toWorkspace((await this.t.call("POST", `/workspaces/${seg(id)}/actions/lock`, single(workspaceResource), { body: { reason } })).data);
  }

  async unlock(id: string): Promise<Workspace> {
    return toWorkspace((await this.t.call("POST", `/workspaces/${seg(id)}/actions/unlock`, single(workspaceResource))).data);
  }

  async tags(id: string): Promise<string[]> {
    return (await allPages(this.t, `/workspaces/${seg(id)}/relationships/tags`, tagResource)).map((t) => t.attributes.name);
  }

  async addTags(id: string, names: readonly string[]): Promise<void> {
    if (!names.length) return;
    await this.t.call("POST", `/workspaces/${seg(id)}/relationships/tags`, undefined, {
      body: { data: names.map((name) => ({ type: "tags", attributes: { name } })) },
    });
  }

  /** Removes tags by name; TFC takes a tag's id, so the workspace's tags are read first. */
  async removeTags(id: string, names: readonly string[]): Promise<void> {
    if (!names.length) return;
    const tags = await allPages(this.t, `/workspaces/${seg(id)}/relationships/tags`, tagResource);
    const data = tags.filter((t) => names.includes(t.attributes.name)).map((t) => ({ type: "tags", id: t.id, attributes: { name: t.attributes.name } }));
    if (!data.length) return;
    await this.t.call("DELETE", `/workspaces/${seg(id)}/relationships/tags`, undefined, { body: { data } });
  }
}

export type VariableCategory = (typeof variableCategories)[number];

export interface VariableSettings {
  key: string;
  value: string;
  category: VariableCategory;
  hcl?: boolean;
  sensitive?: boolean;
  description?: string;
}

function variableBody(v: Partial<VariableSettings>, id?: string) {
  return {
    data: {
      type: "vars",
      ...(id ? { id } : {}),
      attributes: { key: v.key, value: v.value, category: v.category, hcl: v.hcl, sensitive: v.sensitive, description: v.description },
    },
  };
}

/** A workspace's variables. Sensitive values are write-only: they never come back. */
export class Variables {
  constructor(private readonly t: TfcTransport) {}

  async list(workspaceId: string): Promise<Variable[]> {
    // Not paginated in TFC: one answer holds them all.
    return (await this.t.call("GET", `/workspaces/${seg(workspaceId)}/vars`, list(variableResource))).data.map(toVariable);
  }

  async create(workspaceId: string, v: VariableSettings): Promise<Variable> {
    const doc = await this.t.call("POST", `/workspaces/${seg(workspaceId)}/vars`, single(variableResource), { body: variableBody(v), secrets: [v.value] });
    return toVariable(doc.data);
  }

  async update(workspaceId: string, id: string, v: Partial<VariableSettings>): Promise<Variable> {
    const doc = await this.t.call("PATCH", `/workspaces/${seg(workspaceId)}/vars/${seg(id)}`, single(variableResource), {
      body: variableBody(v, id),
      secrets: v.value === undefined ? [] : [v.value],
    });
    return toVariable(doc.data);
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    await this.t.call("DELETE", `/workspaces/${seg(workspaceId)}/vars/${seg(id)}`);
  }
}

export class Projects {
  constructor(private readonly t: TfcTransport) {}

  async list(organization: string): Promise<Project[]> {
    return (await allPages(this.t, `/organizations/${seg(organization)}/projects`, projectResource)).map(toProject);
  }

  async byName(organization: string, name: string): Promise<Project | undefined> {
    const found = await allPages(this.t, `/organizations/${seg(organization)}/projects`, projectResource, { "filter[names]": name });
    return found.map(toProject).find((p) => p.name === name);
  }
}

/** Runs of other workspaces that queue a run in this one. */
export class RunTriggers {
  constructor(private readonly t: TfcTransport) {}

  async inbound(workspaceId: string): Promise<RunTrigger[]> {
    const found = await allPages(this.t, `/workspaces/${seg(workspaceId)}/run-triggers`, runTriggerResource, { "filter[run-trigger][type]": "inbound" });
    return found.map(toRunTrigger);
  }

  async create(workspaceId: string, sourceWorkspaceId: string): Promise<RunTrigger> {
    const doc = await this.t.call("POST", `/workspaces/${seg(workspaceId)}/run-triggers`, single(runTriggerResource), {
      body: { data: { relationships: { sourceable: { data: { type: "workspaces", id: sourceWorkspaceId } } } } },
    });
    return toRunTrigger(doc.data);
  }

  async delete(id: string): Promise<void> {
    await this.t.call("DELETE", `/run-triggers/${seg(id)}`);
  }
}

export interface NotificationSettings {
  name: string;
  destinationType: "generic" | "email" | "slack" | "microsoft-teams";
  enabled: boolean;
  url?: string;
  /** The HMAC key of a generic destination: write-only. */
  token?: string;
  /** "run:created", "run:needs_attention", "run:applying", "run:completed", "run:errored", ... */
  triggers: readonly string[];
  /** An email destination's addresses (TFE). */
  emailAddresses?: readonly string[];
}

function notificationBody(n: Partial<NotificationSettings>, id?: string) {
  return {
    data: {
      type: "notification-configurations",
      ...(id ? { id } : {}),
      attributes: { name: n.name, "destination-type": n.destinationType, enabled: n.enabled, url: n.url, token: n.token, triggers: n.triggers, "email-addresses": n.emailAddresses },
    },
  };
}

export class Notifications {
  constructor(private readonly t: TfcTransport) {}

  async list(workspaceId: string): Promise<NotificationConfiguration[]> {
    return (await allPages(this.t, `/workspaces/${seg(workspaceId)}/notification-configurations`, notificationResource)).map(toNotification);
  }

  async create(workspaceId: string, n: NotificationSettings): Promise<NotificationConfiguration> {
    const doc = await this.t.call("POST", `/workspaces/${seg(workspaceId)}/notification-configurations`, single(notificationResource), {
      body: notificationBody(n),
      secrets: n.token ? [n.token] : [],
    });
    return toNotification(doc.data);
  }

  async update(id: string, n: Partial<NotificationSettings>): Promise<NotificationConfiguration> {
    const doc = await this.t.call("PATCH", `/notification-configurations/${seg(id)}`, single(notificationResource), {
      body: notificationBody(n, id),
      secrets: n.token ? [n.token] : [],
    });
    return toNotification(doc.data);
  }

  async delete(id: string): Promise<void> {
    await this.t.call("DELETE", `/notification-configurations/${seg(id)}`);
  }
}
