// How a tool call's parameter values are shown in the texts around it: trimmed, on one line, cut to
// a readable length, and (in Markdown) as inline code. Pure, and never given a secret parameter.

/** A tool call's parameters, as the model sent them. */
export type Params = Record<string, unknown> | undefined;

/** Longest parameter value echoed in a message; longer ones are cut (they are the model's input). */
const MAX_SHOWN = 120;

/** A non-empty string parameter, cut to a displayable length; a finite number as its digits. */
export function str(params: Params, key: string): string | undefined {
  const v = params?.[key];
  if (typeof v === "string" && v.trim() !== "") {
    return shorten(v.trim());
  }
  if (typeof v === "number" && Number.isFinite(v)) {
    return String(v);
  }
  return undefined;
}

/** A string or list-of-strings parameter, joined for display. */
export function list(params: Params, key: string): string | undefined {
  const v = params?.[key];
  if (Array.isArray(v)) {
    const items = v.filter((x): x is string => typeof x === "string" && x !== "");
    return items.length ? shorten(items.join(", ")) : undefined;
  }
  return str(params, key);
}

/** A finite number parameter. */
export function seconds(params: Params, key: string): number | undefined {
  const v = params?.[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The value on one line, cut to MAX_SHOWN characters. */
export function shorten(v: string): string {
  const oneLine = v.replace(/\s+/g, " ");
  return oneLine.length > MAX_SHOWN ? `${oneLine.slice(0, MAX_SHOWN - 1)}…` : oneLine;
}

/** Inline code in Markdown; backticks in the value would end the span early. */
export function code(v: string): string {
  return "`" + v.replace(/`/g, "'") + "`";
}
