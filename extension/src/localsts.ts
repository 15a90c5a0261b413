// The pure parts of "Use the Local STS": what `awsflow-sts localsts` announces, the scratch profile
// that holds its demo identity, the sidecar's environment that points at that profile, and the
// settings the command changes. No VS Code here, so they are tested on their own.

/** The profile holding the local STS's demo keys, in the scratch files only (never ~/.aws). */
export const LOCAL_PROFILE = "awsflow-local";

/** The settings the command points at the local STS (and restores on Stop). */
export const LOCAL_STS_SETTINGS = ["endpointUrl", "region", "profile"] as const;
export type LocalStsSetting = (typeof LOCAL_STS_SETTINGS)[number];

/** The first stdout line of `awsflow-sts localsts`, the fields this extension uses. */
export interface LocalStsInfo {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  roleArn: string;
  account: string;
}

/** The scratch shared-config files' paths, handed to the sidecar through its environment. */
export interface LocalProfilePaths {
  credentials: string;
  config: string;
}

/**
 * Parses the local STS's first line. Only a loopback http:// endpoint is accepted: the command
 * started that process itself, on 127.0.0.1, so anything else is not its local STS.
 */
export function parseAnnouncement(line: string): LocalStsInfo {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`the local STS's first line is not JSON: ${line.slice(0, 80)}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("the local STS's first line is not a JSON object");
  const o = v as Record<string, unknown>;
  const field = (name: keyof LocalStsInfo, re: RegExp): string => {
    const s = o[name];
    if (typeof s !== "string" || !re.test(s)) throw new Error(`the local STS announced no valid ${name}`);
    return s;
  };
  const info: LocalStsInfo = {
    endpoint: field("endpoint", /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost):\d{1,5}$/),
    region: field("region", /^[a-z]{2,}(-[a-z]+)+-\d{1,2}$/),
    accessKeyId: field("accessKeyId", /^AKIA[A-Z2-7]{16}$/),
    secretAccessKey: field("secretAccessKey", /^[A-Za-z0-9/+=]{16,128}$/),
    roleArn: field("roleArn", /^(arn:aws:iam::\d{12}:role\/\S+)?$/),
    account: field("account", /^\d{12}$/),
  };
  return info;
}

/** The scratch credentials and config files' text: one profile with the demo keys and Region. */
export function localProfileFiles(info: LocalStsInfo): { credentials: string; config: string } {
  return {
    credentials: `[${LOCAL_PROFILE}]\naws_access_key_id = ${info.accessKeyId}\naws_secret_access_key = ${info.secretAccessKey}\n`,
    config: `[profile ${LOCAL_PROFILE}]\nregion = ${info.region}\n`,
  };
}

/** The settings that point the extension at the local STS with the scratch profile. */
export function localStsSettings(info: LocalStsInfo): Record<LocalStsSetting, string> {
  return { endpointUrl: info.endpoint, region: info.region, profile: LOCAL_PROFILE };
}

/**
 * The sidecar's environment: base, and while a local STS is in use the scratch files in place of
 * the user's own, so the profile the settings name is found and nothing of the user's real AWS
 * setup (keys in the environment, another profile) mixes in.
 */
export function sidecarEnv(base: NodeJS.ProcessEnv, paths: LocalProfilePaths | undefined): NodeJS.ProcessEnv {
  if (!paths) return base;
  const env: NodeJS.ProcessEnv = { ...base };
  for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"]) delete env[k];
  env.AWS_SHARED_CREDENTIALS_FILE = paths.credentials;
  env.AWS_CONFIG_FILE = paths.config;
  return env;
}

/**
 * The user-level values to put back on Stop, read from what was saved at Use. Anything that is not
 * a string (or absent) means "unset", so a damaged record never writes junk into the settings.
 */
export function previousSettings(saved: unknown): Record<LocalStsSetting, string | undefined> {
  const o = saved !== null && typeof saved === "object" && !Array.isArray(saved) ? (saved as Record<string, unknown>) : {};
  const pick = (k: LocalStsSetting): string | undefined => (typeof o[k] === "string" ? (o[k] as string) : undefined);
  return { endpointUrl: pick("endpointUrl"), region: pick("region"), profile: pick("profile") };
}
