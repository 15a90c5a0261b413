// Commands that mint credentials or tokens without a role: session, federation, web identity and
// delegated-access tokens.
import type { StsContext } from "../context";
import { Flow, input, pick, runFlow, show, type Args, type CommandResult } from "./ui";

async function done(ctx: StsContext, flow: Flow): Promise<CommandResult> {
  const result = await runFlow(ctx, flow);
  show(ctx, result);
  return result;
}

export async function getSessionToken(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("GetSessionToken", args);
  await flow.mfa();
  await flow.duration(900, 129600, 43200);
  return done(ctx, flow);
}

export async function getFederationToken(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("GetFederationToken", args);
  await flow.text("Name", {
    title: "GetFederationToken: federated user name",
    prompt: "The federated user's name (2–32 characters)",
    validateInput: (s) => (/^[\w+=,.@-]{2,32}$/.test(s.trim()) ? undefined : "2–32 characters of [A-Za-z0-9_+=,.@-]"),
  });
  if (!flow.has("PolicyArns") && !flow.has("Policy") && flow.interactive) {
    const policyArn = await input(
      {
      title: "GetFederationToken: session policy (optional)",
      prompt: "A managed policy ARN that grants the session its permissions; empty for none (the credentials then have no permissions)",
      placeHolder: "arn:aws:iam::aws:policy/ReadOnlyAccess",
      validateInput: (s) => (s.trim() === "" || /^arn:[\w+=/,.@:-]{16,2044}$/.test(s.trim()) ? undefined : "A policy ARN, such as arn:aws:iam::aws:policy/ReadOnlyAccess"),
      },
      false,
    );
    if (policyArn !== "") flow.params.PolicyArns = [policyArn];
  }
  return done(ctx, flow);
}

export async function getWebIdentityToken(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("GetWebIdentityToken", args);
  if (!flow.has("Audience")) {
    const audience = await input(
      {
        title: "GetWebIdentityToken: audience",
        prompt: "The token's audience (aud claim); several separated by commas",
        placeHolder: "https://api.example.com",
      },
      true,
    );
    flow.params.Audience = audience.split(",").map((a) => a.trim()).filter((a) => a !== "");
  } else if (typeof flow.params.Audience === "string") {
    flow.params.Audience = [flow.params.Audience];
  }
  if (!flow.has("SigningAlgorithm")) {
    const alg = await pick(
      [
        { label: "RS256", description: "RSA with SHA-256" },
        { label: "ES384", description: "ECDSA P-384 with SHA-384" },
      ],
      { title: "GetWebIdentityToken: signing algorithm" },
    );
    flow.params.SigningAlgorithm = alg.label;
  }
  return done(ctx, flow);
}

export async function getDelegatedAccessToken(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("GetDelegatedAccessToken", args);
  // A secret: masked, and sent only to the sidecar.
  await flow.text("TradeInToken", {
    title: "GetDelegatedAccessToken: trade-in token",
    prompt: "The trade-in token to exchange for delegated credentials",
    password: true,
    validateInput: (s) => (s.trim().length >= 4 && s.trim().length <= 20000 ? undefined : "4–20000 characters"),
  });
  return done(ctx, flow);
}
