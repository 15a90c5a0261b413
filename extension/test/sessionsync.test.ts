// SessionSync: the vault kept in step with sessions/changed, and a restarted sidecar re-seeded from
// it. First with a fake client (ordering, failures, the setting off), then with the real sidecar and
// the local STS: a minted session survives a SIGKILL of the sidecar, forgetting it removes it, and an
// expired stored session is never imported.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { SidecarError, type SidecarClient } from "../src/client";
import { SecretStore, SessionVault, VAULT_KEY } from "../src/persist";
import { ERROR_CODES, type ExportedSession, type SessionList, type SessionsChangedParams, type SessionsImportParams, type SessionsImportResult } from "../src/protocol.gen";
import { readChangedParams, SessionSync, type SyncClient } from "../src/sessionsync";
import { Supervisor, type SupervisorState } from "../src/supervisor";
import { LocalSts, scratchDir, sidecarSkipReason, startLocalSts, withTimeout , localSupervisor } from "./helpers";

class MemoryStore implements SecretStore {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

const HOUR = 3600_000;

const exported = (name: string, over: Partial<ExportedSession> = {}): ExportedSession => ({
  name,
  kind: "credentials",
  command: "AssumeRole",
  accessKeyId: "ASIAEXAMPLEEXAMPLE",
  secretAccessKey: "secret-of-" + name,
  sessionToken: "token-of-" + name,
  expiration: new Date(Date.now() + HOUR).toISOString(),
  ...over,
});

const changed = (reason: string, session: string, active = "base"): SessionsChangedParams => ({ reason, session, active });

/** A client whose export takes a while, so a later event could overtake it if the sync let it. */
class FakeClient implements SyncClient {
  exports: string[] = [];
  imports: SessionsImportParams[] = [];
  failExport: Error | undefined;
  importResult: ((p: SessionsImportParams) => SessionsImportResult) | Error = (p) => ({
    imported: p.sessions.map((s) => s.name),
    skipped: [],
    list: { sessions: [], active: p.active ?? "base" },
  });

  async exportSession(name: string): Promise<ExportedSession> {
    this.exports.push(name);
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (this.failExport) throw this.failExport;
    return exported(name);
  }

  async importSessions(params: SessionsImportParams): Promise<SessionsImportResult> {
    this.imports.push(params);
    if (this.importResult instanceof Error) throw this.importResult;
    return this.importResult(params);
  }
}

function harness(enabled = true): { store: MemoryStore; vault: SessionVault; sync: SessionSync; logs: string[]; setEnabled(v: boolean): void } {
  const store = new MemoryStore();
  const logs: string[] = [];
  let on = enabled;
  const vault = new SessionVault(store, { log: (l) => logs.push(l) });
  const sync = new SessionSync(vault, { enabled: () => on, log: (l) => logs.push(l) });
  return { store, vault, sync, logs, setEnabled: (v) => (on = v) };
}

async function storedNames(vault: SessionVault): Promise<string[]> {
  return (await vault.load()).sessions.map((s) => s.name).sort();
}

describe("SessionSync with a fake client", () => {
  test("created, refreshed and imported store the exported session; forgotten and expired remove it", async () => {
    const { vault, sync } = harness();
    const client = new FakeClient();
    await sync.onChanged(changed("created", "dev"), client);
    await sync.onChanged(changed("refreshed", "dev"), client);
    await sync.onChanged(changed("imported", "mfa"), client);
    assert.deepEqual(client.exports, ["dev", "dev", "mfa"]);
    assert.deepEqual(await storedNames(vault), ["dev", "mfa"]);
    await sync.onChanged(changed("forgotten", "dev"), client);
    await sync.onChanged(changed("expired", "mfa"), client);
    assert.deepEqual(await storedNames(vault), []);
  });

  test("events apply in arrival order: a forget right after a create is not undone by the slower export", async () => {
    const { vault, sync } = harness();
    const client = new FakeClient();
    const all = [sync.onChanged(changed("created", "dev"), client), sync.onChanged(changed("forgotten", "dev"), client)];
    await Promise.all(all);
    assert.deepEqual(await storedNames(vault), []);
  });

  test("used records the default; base clears it", async () => {
    const { vault, sync } = harness();
    const client = new FakeClient();
    await sync.onChanged(changed("created", "dev"), client);
    await sync.onChanged(changed("used", "dev", "dev"), client);
    assert.equal((await vault.load()).active, "dev");
    await sync.onChanged(changed("used", "base", "base"), client);
    assert.equal((await vault.load()).active, undefined);
  });

  test("expiring and refreshFailed change nothing stored", async () => {
    const { sync } = harness();
    const client = new FakeClient();
    await sync.onChanged(changed("expiring", "dev"), client);
    await sync.onChanged(changed("refreshFailed", "dev"), client);
    assert.deepEqual(client.exports, []);
  });

  test("a failed export is logged with the session's name, never thrown", async () => {
    const { vault, sync, logs } = harness();
    const client = new FakeClient();
    client.failExport = new SidecarError("no session dev", ERROR_CODES.SessionError, { kind: "session" });
    await sync.onChanged(changed("created", "dev"), client);
    assert.deepEqual(await storedNames(vault), []);
    assert.deepEqual(logs, ["could not update the stored sessions (created dev): no session dev"]);
  });

  test("forget removes a session without the sidecar", async () => {
    const { vault, sync } = harness();
    await vault.save(exported("dev"));
    await sync.forget("dev");
    assert.deepEqual(await storedNames(vault), []);
  });

  test("reseed imports the unexpired sessions with the default, and logs names and skips only", async () => {
    const { store, vault, sync, logs } = harness();
    await vault.save(exported("dev"));
    await vault.save(exported("mfa", { command: "GetSessionToken" }));
    await vault.setActive("dev");
    // An expired copy can only be there if it expired while stored: written straight to the store.
    const raw = JSON.parse(store.values.get(VAULT_KEY) ?? "{}") as { sessions: Record<string, ExportedSession> };
    raw.sessions.stale = exported("stale", { expiration: new Date(Date.now() - 1000).toISOString() });
    store.values.set(VAULT_KEY, JSON.stringify(raw));

    const client = new FakeClient();
    client.importResult = (p) => ({
      imported: ["dev"],
      skipped: [{ name: "mfa", reason: "it expires within a minute" }],
      list: { sessions: [], active: p.active ?? "base" },
    });
    const result = await sync.reseed(client);
    assert.deepEqual(result?.imported, ["dev"]);
    assert.equal(client.imports.length, 1);
    assert.deepEqual(
      client.imports[0].sessions.map((s) => s.name).sort(),
      ["dev", "mfa"],
    );
    assert.equal(client.imports[0].active, "dev");
    assert.deepEqual(logs, ["restored 1 session: dev", "the default session is dev again", "did not restore session mfa: it expires within a minute"]);
    for (const s of client.imports[0].sessions) {
      assert.ok(!logs.join("\n").includes(s.secretAccessKey ?? "?"), "no secret in the log");
    }
  });

  test("reseed with nothing stored calls nothing; an older sidecar without sessions/import is logged", async () => {
    const { vault, sync, logs } = harness();
    const client = new FakeClient();
    assert.equal(await sync.reseed(client), undefined);
    assert.equal(client.imports.length, 0);
    await vault.save(exported("dev"));
    client.importResult = new SidecarError("method not found", ERROR_CODES.MethodNotFound, { kind: "protocol" });
    assert.equal(await sync.reseed(client), undefined);
    assert.match(logs.join("\n"), /cannot import sessions/);
    client.importResult = new SidecarError("bad entry", ERROR_CODES.InvalidParams, { kind: "validation" });
    await assert.rejects(sync.reseed(client), /bad entry/);
  });

  test("with persistSessions off nothing is saved, and reseed and disable clear the vault", async () => {
    const { store, vault, sync, setEnabled, logs } = harness();
    const client = new FakeClient();
    await vault.save(exported("dev"));
    setEnabled(false);
    await sync.onChanged(changed("created", "mfa"), client);
    assert.deepEqual(client.exports, []);
    assert.equal(await sync.reseed(client), undefined);
    assert.equal(client.imports.length, 0);
    assert.equal(store.values.size, 0);
    await vault.save(exported("again"));
    await sync.disable();
    assert.equal(store.values.size, 0);
    assert.match(logs.join("\n"), /session persistence is off/);
  });

  test("saveAll stores the running sidecar's unexpired sessions and its default", async () => {
    const { vault, sync } = harness();
    const client = new FakeClient();
    const info = (name: string, expired = false): SessionList["sessions"][number] => ({
      name,
      kind: "credentials",
      command: "AssumeRole",
      expiration: new Date(Date.now() + HOUR).toISOString(),
      secondsLeft: 3600,
      expired,
      active: name === "dev",
    });
    await sync.saveAll(client, { sessions: [info("dev"), info("old", true)], active: "dev" });
    assert.deepEqual(client.exports, ["dev"]);
    const { sessions, active } = await vault.load();
    assert.deepEqual(
      sessions.map((s) => s.name),
      ["dev"],
    );
    assert.equal(active, "dev");
  });

  test("readChangedParams accepts the contract's shape only", () => {
    assert.ok(readChangedParams(changed("created", "dev")));
    assert.ok(readChangedParams({ ...changed("created", "dev"), message: "made" }));
    for (const bad of [undefined, null, "x", { reason: "created" }, { reason: "created", session: "dev" }, { ...changed("created", "dev"), info: {} }, { ...changed("created", "dev"), active: undefined }, { ...changed("x", "y"), message: 3 }]) {
      assert.equal(readChangedParams(bad), undefined, JSON.stringify(bad));
    }
  });
});

const skip = sidecarSkipReason();

describe("sessions kept across a sidecar restart (real sidecar, local STS)", { skip, timeout: 120_000 }, () => {
  let sts: LocalSts;
  let scratch: { dir: string; remove(): void };
  let supervisor: Supervisor;
  let store: MemoryStore;
  let vault: SessionVault;
  let sync: SessionSync;
  const logs: string[] = [];
  const states: SupervisorState[] = [];
  const events: SessionsChangedParams[] = [];
  const reseeds: (SessionsImportResult | undefined)[] = [];
  /** The minted session's secrets: none may reach a log line. */
  const secrets: string[] = [];
  let reseedsWhenClientResolved = -1;

  /** Polls until check passes: notifications arrive on their own schedule. */
  async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
    const end = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > end) assert.fail(`timed out waiting until ${what}; sessions/changed seen: ${JSON.stringify(events.map((e) => [e.reason, e.session]))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  before(async () => {
    sts = await startLocalSts();
    scratch = scratchDir();
    store = new MemoryStore();
    vault = new SessionVault(store, { log: (l) => logs.push(l) });
    sync = new SessionSync(vault, { enabled: () => true, log: (l) => logs.push(l) });
    supervisor = localSupervisor("sessionsync-test", sts, scratch.dir, {
      log: (l) => logs.push(l),
      onStateChange: (s) => states.push(s),
      onStarted: async (client: SidecarClient) => {
        // Slower than the import alone, so a client() that did not wait would be caught.
        await new Promise((resolve) => setTimeout(resolve, 100));
        reseeds.push(await sync.reseed(client));
      },
      onNotification: (method, params, client) => {
        const p = method === "sessions/changed" ? readChangedParams(params) : undefined;
        if (p) {
          events.push(p);
          void sync.onChanged(p, client);
        }
      },
    });
  });

  after(async () => {
    await supervisor?.stop();
    await sts?.stop();
    scratch?.remove();
  });

  const has = async (name: string): Promise<boolean> => (await vault.load()).sessions.some((s) => s.name === name);

  test("a minted session reaches the vault through its created notification", async () => {
    const client = await supervisor.client();
    assert.deepEqual(reseeds, [undefined], "nothing to restore at the first start");
    const res = await withTimeout(client.invoke("AssumeRole", { RoleArn: `arn:aws:iam::${sts.info.account}:role/Dev`, RoleSessionName: "keep" }), 15_000, "AssumeRole");
    assert.match(res.text, /stored as session `keep`/);
    await eventually("the vault holds keep", () => has("keep"));
    assert.ok(events.some((e) => e.reason === "created" && e.session === "keep"));
    const stored = (await vault.load()).sessions.find((s) => s.name === "keep");
    assert.ok(stored?.secretAccessKey && stored.sessionToken, "the stored copy holds the secrets import needs");
    secrets.push(stored.secretAccessKey, stored.sessionToken);
    await client.useSession("keep");
    await eventually("the vault records keep as the default", async () => (await vault.load()).active === "keep");
  });

  test("after SIGKILL the new sidecar is re-seeded before anyone gets it, and the session signs calls", async () => {
    // An expired copy in the vault (it can only get there by expiring while stored) must not be sent.
    await sync.idle();
    const raw = JSON.parse(store.values.get(VAULT_KEY) ?? "{}") as { sessions: Record<string, ExportedSession> };
    const keep = raw.sessions.keep;
    raw.sessions.stale = { ...keep, name: "stale", expiration: new Date(Date.now() - 60_000).toISOString() };
    store.values.set(VAULT_KEY, JSON.stringify(raw));

    const old = await supervisor.client();
    const pid = supervisor.pid;
    assert.ok(pid);
    const closed = new Promise<void>((resolve) => old.onClose(() => resolve()));
    process.kill(pid, "SIGKILL");
    await withTimeout(closed, 5000, "the killed sidecar's connection closing");

    const client = await withTimeout(supervisor.client(), 20_000, "the restart");
    reseedsWhenClientResolved = reseeds.length;
    assert.notEqual(supervisor.pid, pid);
    assert.equal(reseedsWhenClientResolved, 2, "client() resolved only after onStarted's reseed");
    const result = reseeds[1];
    assert.ok(result, `the restart imported something; log:\n${logs.slice(-20).join("\n")}`);
    assert.deepEqual(result.imported, ["keep"]);
    assert.ok(!result.skipped.some((s) => s.name === "stale"), "the expired session was never sent");
    assert.equal(result.list.active, "keep", "the default is restored");
    assert.ok(logs.includes("restored 1 session: keep"), logs.join("\n"));

    const who = await withTimeout(client.invoke("GetCallerIdentity", { Session: "keep" }), 15_000, "GetCallerIdentity");
    assert.match(who.text, new RegExp(`arn:aws:sts::${sts.info.account}:assumed-role/Dev/keep`));
    const list = await client.listSessions();
    assert.deepEqual(
      list.sessions.map((s) => s.name),
      ["keep"],
    );
  });

  test("forgetting the session removes it from the vault", async () => {
    const client = await supervisor.client();
    await client.forgetSession("keep");
    await eventually("the vault no longer holds keep", async () => !(await has("keep")));
    assert.ok(events.some((e) => e.reason === "forgotten" && e.session === "keep"));
  });

  test("no secret reached the log", async () => {
    const text = logs.join("\n") + JSON.stringify(events);
    assert.equal(secrets.length, 2);
    for (const secret of [sts.info.secretAccessKey, ...secrets]) {
      assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 4)}…) reached the log or a notification`);
    }
  });
});
