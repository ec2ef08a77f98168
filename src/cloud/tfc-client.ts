import { Applies, ConfigurationVersions, Logs, Plans, Runs, StateVersions } from "./tfc-runs.js";
import { TfcTransport, type Fetch, type TfcConnection } from "./tfc-transport.js";
import { Notifications, Organizations, Projects, RunTriggers, Variables, Workspaces } from "./tfc-workspaces.js";

/**
 * A Terraform Cloud / Enterprise API v2 client, one object per kind of resource as go-tfe
 * has them: `client.workspaces.byName(org, name)`, `client.runs.apply(id)`. The fetch
 * function, the token and the host come in; nothing is read from the environment.
 */
export class TfcClient {
  readonly host: string;
  readonly baseUrl: string;
  readonly organizations: Organizations;
  readonly workspaces: Workspaces;
  readonly variables: Variables;
  readonly projects: Projects;
  readonly runTriggers: RunTriggers;
  readonly notifications: Notifications;
  readonly configurationVersions: ConfigurationVersions;
  readonly runs: Runs;
  readonly plans: Plans;
  readonly applies: Applies;
  readonly stateVersions: StateVersions;
  readonly logs: Logs;

  constructor(connection: TfcConnection) {
    const t = new TfcTransport(connection);
    this.host = t.host;
    this.baseUrl = t.baseUrl;
    this.organizations = new Organizations(t);
    this.workspaces = new Workspaces(t);
    this.variables = new Variables(t);
    this.projects = new Projects(t);
    this.runTriggers = new RunTriggers(t);
    this.notifications = new Notifications(t);
    this.configurationVersions = new ConfigurationVersions(t);
    this.runs = new Runs(t);
    this.plans = new Plans(t);
    this.applies = new Applies(t);
    this.stateVersions = new StateVersions(t);
    this.logs = new Logs(t);
  }
}

export type { Fetch, TfcConnection } from "./tfc-transport.js";
export type { ConfigurationVersion, NotificationConfiguration, Organization, Phase, Project, Run, RunTrigger, StateOutput, Variable, Workspace } from "./tfc-resources.js";
export { FINAL_PHASE_STATUSES, FINAL_RUN_STATUSES, isFinalRunStatus } from "./tfc-resources.js";
export type { FollowOptions, PollOptions, RunSettings, StateVersion } from "./tfc-runs.js";
export type { NotificationSettings, VariableCategory, VariableSettings, WorkspaceSettings } from "./tfc-workspaces.js";

/** Reads a signed log-read-url alone, for a holder of no token (the CLI): the URL is its own credential. */
export function signedLogs(fetch: Fetch, url: string): Logs {
  return new Logs(new TfcTransport({ hostname: new URL(url).origin, token: "", fetch }));
}
