// Drives bench/gosdk (aws-sdk-go-v2 in its own process) one call at a time over its stdin, so its
// calls can alternate with the extension's; each answer carries the time measured inside Go.
import { spawn } from "node:child_process";
import * as readline from "node:readline";
import { withTimeout } from "./procs.mjs";

export async function startGoSdk(binary, info, env) {
  const proc = spawn(binary, ["-endpoint", info.endpoint, "-region", info.region], { env, stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise((resolve) => proc.once("close", resolve));
  const waiting = [];
  readline.createInterface({ input: proc.stdout }).on("line", (line) => waiting.shift()?.(line));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const ready = await withTimeout(next(), 15_000, "gosdk start");
  if (ready !== "ready") throw new Error(`gosdk: ${ready}`);
  const ask = async (line) => {
    const answer = next();
    proc.stdin.write(line + "\n");
    const text = await withTimeout(answer, 30_000, `gosdk ${line}`);
    const [status, rest] = [text.slice(0, text.indexOf(" ")), text.slice(text.indexOf(" ") + 1)];
    if (status !== "ok") throw new Error(`gosdk ${line}: ${rest}`);
    return Number(rest);
  };
  return {
    /** One GetCallerIdentity; its duration inside Go, in nanoseconds. */
    call: () => ask("call"),
    warm: (n) => ask(`warm ${n}`),
    async stop() {
      proc.stdin.end("quit\n");
      await withTimeout(exited, 5000, "gosdk exit").catch(() => proc.kill("SIGKILL"));
    },
  };
}
