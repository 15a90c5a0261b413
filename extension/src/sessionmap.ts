// The extension's own copy of the sidecar's sessions: filled once from sessions/list when a sidecar
// starts, then kept by the changes sessions/changed carries (one session, or its name when it was
// forgotten), so a call never costs a re-list and N changes cost O(N), not O(N²). Pure: no vscode.
import { RESERVED_SESSION_NAME, type SessionInfo, type SessionList, type SessionsChangedParams } from "./protocol.gen";

export class SessionMap {
  private readonly byName = new Map<string, SessionInfo>();
  private activeName: string = RESERVED_SESSION_NAME;
  /** The list as sessions/list would give it, built on demand and kept until the next change. */
  private snapshot: SessionList | undefined;

  /** Replaces everything with a sessions/list answer (or the list a sessions/* method returned). */
  replace(list: SessionList): void {
    this.byName.clear();
    for (const s of list.sessions) this.byName.set(s.name, s);
    this.activeName = list.active;
    this.snapshot = undefined;
  }

  /** Applies one sessions/changed notification. */
  apply(change: SessionsChangedParams): void {
    if (change.info) this.byName.set(change.session, change.info);
    else this.byName.delete(change.session);
    this.activeName = change.active;
    this.snapshot = undefined;
  }

  get active(): string {
    return this.activeName;
  }

  get size(): number {
    return this.byName.size;
  }

  get(name: string): SessionInfo | undefined {
    return this.byName.get(name);
  }

  /** The active stored session; undefined when the base identity is in use. */
  activeSession(): SessionInfo | undefined {
    if (this.activeName === RESERVED_SESSION_NAME) return undefined;
    const s = this.byName.get(this.activeName);
    return s && { ...s, active: true };
  }

  /** The sessions in name order, as sessions/list gives them, with each one's active flag current. */
  list(): SessionList {
    if (!this.snapshot) {
      const names = [...this.byName.keys()].sort(compareNames);
      const sessions = names.map((n) => {
        const s = this.byName.get(n) as SessionInfo;
        const active = n === this.activeName;
        return s.active === active ? s : { ...s, active };
      });
      this.snapshot = { sessions, active: this.activeName };
    }
    return this.snapshot;
  }
}

/** Byte order, as the sidecar's sort.Strings gives it. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
