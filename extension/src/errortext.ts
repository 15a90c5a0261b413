// What the model reads when an STSTool call fails: the sidecar's error with its kind, AWS code and
// hint, or a generic sentence for anything else (whose text may not be fit to show). Pure.
import { SidecarError } from "./client";

/** What the model reads when a call fails. Never throws: it runs inside error handling. */
export function errorText(err: unknown): string {
  try {
    if (err instanceof SidecarError) {
      return sidecarErrorText(err);
    }
  } catch {
    // fall through to the generic text
  }
  return 'STSTool error (internal): the call failed inside the extension. The details are in the "awsflow-sts" output channel (AWS STS: Show Log).';
}

function sidecarErrorText(err: SidecarError): string {
  const awsCode = err.data?.awsCode;
  const head = `STSTool error (${err.kind}${awsCode ? `, ${awsCode}` : ""}): ${err.message}`;
  const hint = err.data?.hint;
  return hint && !err.message.includes(hint) ? `${head}\n\nWhat to do: ${hint}` : head;
}

/** The sign-in a failed call needs (kind "signin", data.ssoSession), or undefined for any other failure. */
export function signInNeeded(err: unknown): { ssoSession: string | undefined } | undefined {
  if (!(err instanceof SidecarError) || err.kind !== "signin") return undefined;
  const s = err.data?.ssoSession;
  return { ssoSession: typeof s === "string" && s.trim() !== "" ? s.trim() : undefined };
}
