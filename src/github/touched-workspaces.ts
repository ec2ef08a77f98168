import picomatch from "picomatch";

/** What of a Workspace decides whether a pull request touches it. */
export interface LinkedWorkspace {
  namespace: string;
  name: string;
  vcs: {
    /** "owner/repo" (a `https://host/owner/repo.git` URL is taken as owner/repo too). */
    repository: string;
    /** The branch the workspace follows: only PRs into it are planned. */
    branch: string;
    /** Globs of repository paths that touch the workspace as well as its workingDir. */
    paths?: readonly string[];
  };
  /** The configuration's directory in the repository; "" or "." is the root. */
  workingDir: string;
}

/** One changed file of a PR, as `GET /pulls/{n}/files` lists it. */
export interface ChangedFile {
  filename: string;
  /** The file's old path when it was renamed: moving a file out of a directory touches it too. */
  previousFilename?: string;
}

export interface PullChanges {
  /** "owner/repo" of the PR's base. */
  baseRepository: string;
  baseBranch: string;
  files: readonly ChangedFile[];
}

/**
 * The workspaces a pull request touches: those following the PR's base repository and
 * branch that have a changed path (new or old name) under their workingDir or matching one
 * of their `vcs.paths`.
 *
 * `vcs.paths` are picomatch globs against the path from the repository root: `*` and `?`
 * stay within a directory, `**` crosses directories, `{a,b}` and `[abc]` as in bash, dot
 * files match. A pattern starting with `!` excludes from what the globs match (not from the
 * workingDir): a path counts when it matches some other pattern and no `!` pattern. Files of local modules outside the workingDir count only
 * through `vcs.paths` (list `modules/**` there).
 */
export function touchedWorkspaces<W extends LinkedWorkspace>(workspaces: readonly W[], pull: PullChanges): W[] {
  const paths = pull.files.flatMap((f) => (f.previousFilename && f.previousFilename !== f.filename ? [f.filename, f.previousFilename] : [f.filename]));
  const base = repositoryName(pull.baseRepository);
  return workspaces.filter((ws) => {
    if (repositoryName(ws.vcs.repository) !== base || ws.vcs.branch !== pull.baseBranch) return false;
    const inDir = underDir(normalizeDir(ws.workingDir));
    const matchesGlobs = globMatcher(ws.vcs.paths ?? []);
    return paths.some((p) => inDir(p) || matchesGlobs(p));
  });
}

/** "owner/repo", lower case (GitHub's names are case-insensitive), from either form of `vcs.repository`. */
export function repositoryName(repository: string): string {
  const withoutUrl = repository.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]+\//i, "").replace(/^git@[^:]+:/, "");
  return withoutUrl.replace(/\.git$/, "").replace(/\/+$/, "").toLowerCase();
}

/** "envs/prod" from "./envs/prod/", "" for the root. */
function normalizeDir(dir: string): string {
  const parts = dir.split("/").filter((p) => p !== "" && p !== ".");
  return parts.join("/");
}

function underDir(dir: string): (path: string) => boolean {
  if (dir === "") return () => true;
  return (path) => path === dir || path.startsWith(`${dir}/`);
}

function globMatcher(patterns: readonly string[]): (path: string) => boolean {
  const include = patterns.filter((p) => !p.startsWith("!"));
  const exclude = patterns.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
  if (include.length === 0) return () => false;
  const included = picomatch(include, { dot: true });
  const excluded = exclude.length > 0 ? picomatch(exclude, { dot: true }) : () => false;
  return (path) => included(path) && !excluded(path);
}
