// Commands that assume roles: AssumeRole, with web identity, with SAML, and AssumeRoot.
import * as vscode from "vscode";
import { SidecarError, type SidecarClient } from "../client";
import type { StsContext } from "../context";
import { ERROR_CODES } from "../protocol.gen";
import { Flow, input, pick, pickFile, runFlow, show, type Args, type CommandResult } from "./ui";

const ROLE_ARN = /^arn:[\w+=/,.@:-]+:role\/[\w+=/,.@-]+$/;
const ROLE_ARNS_IN_TEXT = /arn:[\w-]+:iam::\d{12}:role\/[\w+=/,.@-]*[\w+=/@-]/g;

export const ROOT_TASK_POLICIES = [
  "IAMAuditRootUserCredentials",
  "IAMCreateRootUserPassword",
  "IAMDeleteRootUserCredentials",
  "S3UnlockBucketPolicy",
  "SQSUnlockQueuePolicy",
] as const;
const ROOT_TASK_PREFIX = "arn:aws:iam::aws:policy/root-task/";

function validateRoleArn(s: string): string | undefined {
  const t = s.trim();
  return t.startsWith("arn:") && t.includes(":role/") && ROLE_ARN.test(t) ? undefined : "A role ARN, such as arn:aws:iam::123456789012:role/Dev";
}

/** A role some profile of the AWS config assumes. */
interface ProfileRole {
  profile: string;
  roleArn: string;
}

/** Roles from the AWS config's profiles (profiles/list reads names and role ARNs, never keys). */
async function profileRoles(client: SidecarClient): Promise<ProfileRole[]> {
  try {
    const { profiles } = await client.listProfiles();
    // A config file without profiles has come back as "profiles": null: no roles then, not a crash.
    return (Array.isArray(profiles) ? profiles : []).flatMap((p) => (p.roleArn ? [{ profile: p.name, roleArn: p.roleArn }] : []));
  } catch (err) {
    // An older sidecar without profiles/list still offers recent roles and typing one.
    if (err instanceof SidecarError && err.code === ERROR_CODES.MethodNotFound) return [];
    throw err;
  }
}

type RoleItem = vscode.QuickPickItem & { roleArn?: string };

/** The role ARN: from the AWS config's profiles, recently used roles, or typed. */
async function chooseRole(ctx: StsContext, flow: Flow): Promise<void> {
  if (flow.has("RoleArn")) return;
  const fromProfiles = await profileRoles(await ctx.client());
  const recent = ctx.recentRoles();
  const items: RoleItem[] = [
    ...fromProfiles.map((r) => ({ label: r.roleArn, description: `profile ${r.profile}`, roleArn: r.roleArn })),
    ...recent.filter((r) => !fromProfiles.some((p) => p.roleArn === r)).map((r) => ({ label: r, description: "recently used", roleArn: r })),
  ];
  let roleArn: string | undefined;
  if (items.length > 0) {
    const typeOne: RoleItem = { label: "$(edit) Enter a role ARN…", alwaysShow: true };
    const chosen = await pick([...items, typeOne], { title: `${flow.command}: role`, placeHolder: "The role to assume", matchOnDescription: true });
    roleArn = chosen.roleArn;
  }
  roleArn ??= await input({ title: `${flow.command}: role`, prompt: "The ARN of the role to assume", placeHolder: "arn:aws:iam::123456789012:role/Dev", validateInput: validateRoleArn }, true);
  flow.params.RoleArn = roleArn;
}

/** A session name from the role's name: RoleSessionName allows 2–64 of [\w+=,.@-]. */
export function defaultSessionName(roleArn: string): string {
  const name = (roleArn.split(":role/")[1] ?? "").split("/").pop() ?? "";
  const clean = name.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
  return clean.length >= 2 ? clean : "awsflow-sts";
}

async function done(ctx: StsContext, flow: Flow): Promise<CommandResult> {
  const result = await runFlow(ctx, flow);
  const roleArn = flow.str("RoleArn");
  if (roleArn) await ctx.rememberRole(roleArn);
  show(ctx, result);
  return result;
}

export async function assumeRole(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("AssumeRole", args);
  await chooseRole(ctx, flow);
  await flow.text("RoleSessionName", {
    title: "AssumeRole: session name",
    prompt: "The role session name (shown in the assumed-role ARN and CloudTrail)",
    value: defaultSessionName(flow.str("RoleArn") ?? ""),
    validateInput: (s) => (/^[\w+=,.@-]{2,64}$/.test(s.trim()) ? undefined : "2–64 characters of [A-Za-z0-9_+=,.@-]"),
  });
  await flow.optional("ExternalId", {
    title: "AssumeRole: external id (optional)",
    prompt: "The external id the role's trust policy requires; empty for none",
    validateInput: (s) => (s.trim() === "" || /^[\w+=,.@:/-]{2,1224}$/.test(s.trim()) ? undefined : "2–1224 characters of [A-Za-z0-9_+=,.@:/-]"),
  });
  await flow.mfa();
  return done(ctx, flow);
}

export async function assumeRoleWithWebIdentity(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("AssumeRoleWithWebIdentity", args);
  await chooseRole(ctx, flow);
  // The token is a secret: it is read from a file by the sidecar, never typed or shown.
  if (!flow.has("WebIdentityTokenFile") && !flow.has("WebIdentityToken")) {
    flow.params.WebIdentityTokenFile = await pickFile("AssumeRoleWithWebIdentity: the OIDC or OAuth 2.0 token file", "Use token file");
  }
  return done(ctx, flow);
}

export async function assumeRoleWithSAML(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("AssumeRoleWithSAML", args);
  if (!flow.has("SAMLAssertionFile") && !flow.has("SAMLAssertion")) {
    flow.params.SAMLAssertionFile = await pickFile("AssumeRoleWithSAML: the SAML response file (base64, as the identity provider posts it)", "Use assertion");
  }
  // The sidecar picks the role pair when the assertion offers one role; with several it names them.
  try {
    return await done(ctx, flow);
  } catch (err) {
    const roles = flow.has("RoleArn") || !(err instanceof SidecarError) ? [] : offeredRoles(err.message);
    if (roles.length === 0) throw err;
    // Programmatic callers answer this pick with args.pickRole (or pass RoleArn up front).
    if (!flow.interactive && typeof args?.pickRole !== "string") throw err;
    const chosen =
      typeof args?.pickRole === "string"
        ? args.pickRole
        : (await pick(roles.map((r) => ({ label: r })), { title: "AssumeRoleWithSAML: role", placeHolder: "The assertion offers several roles" })).label;
    flow.params.RoleArn = chosen;
    return done(ctx, flow);
  }
}

/** The role ARNs an "offers N roles: …; pass RoleArn" error lists. */
export function offeredRoles(message: string): string[] {
  if (!/pass RoleArn/.test(message)) return [];
  return [...new Set(message.match(ROLE_ARNS_IN_TEXT) ?? [])];
}

export async function assumeRoot(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("AssumeRoot", args);
  await flow.text("TargetPrincipal", {
    title: "AssumeRoot: member account",
    prompt: "The member account id (12 digits) or account ARN to act on as root",
    validateInput: (s) => (/^(\d{12}|arn:[\w+=/,.@:-]+)$/.test(s.trim()) ? undefined : "12 digits, or an account ARN"),
  });
  if (!flow.has("TaskPolicyArn")) {
    const chosen = await pick(
      ROOT_TASK_POLICIES.map((p) => ({ label: p, description: ROOT_TASK_PREFIX + p })),
      { title: "AssumeRoot: task policy", placeHolder: "The one root task the credentials may do" },
    );
    flow.params.TaskPolicyArn = ROOT_TASK_PREFIX + chosen.label;
  }
  await flow.duration(0, 900, 900);
  const result = await runFlow(ctx, flow);
  show(ctx, result);
  return result;
}
