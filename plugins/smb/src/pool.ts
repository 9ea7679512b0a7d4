import { isDestinationError } from '@matric-backup/plugin-api';
import type { SmbSession } from './session.js';

// Errors about one file leave the session usable; anything else (connection, logon, abort) ends it.
const KEEPS_SESSION = new Set(['NOT_FOUND', 'PERMISSION_DENIED', 'NO_SPACE', 'INVALID_KEY', 'INTEGRITY']);

/**
 * Up to `size` smbclient sessions shared by the destination's operations, one
 * operation per session at a time. Idle sessions are logged off after
 * `idleMs`, so a long-running process holds no connection between backups.
 */
export class SessionPool {
  private readonly idle: SmbSession[] = [];
  private readonly timers = new Map<SmbSession, NodeJS.Timeout>();
  private readonly queue: Array<() => void> = [];
  private count = 0;
  private closed = false;

  constructor(
    private readonly open: () => Promise<SmbSession>,
    private readonly size: number,
    private readonly idleMs: number,
  ) {}

  /** Runs `task` on a session of its own. */
  async use<T>(task: (session: SmbSession) => Promise<T>): Promise<T> {
    const session = await this.acquire();
    try {
      const value = await task(session);
      this.release(session, true);
      return value;
    } catch (error) {
      this.release(session, isDestinationError(error) && KEEPS_SESSION.has(error.code));
      throw error;
    }
  }

  /** Logs off every session; later operations open new ones. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const sessions = this.idle.splice(0);
    this.count -= sessions.length;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(sessions.map((session) => session.close()));
    this.closed = false;
  }

  private async acquire(): Promise<SmbSession> {
    for (;;) {
      const reused = this.idle.pop();
      if (reused) {
        clearTimeout(this.timers.get(reused));
        this.timers.delete(reused);
        if (reused.alive) return reused;
        this.count--;
        continue;
      }
      if (this.count < this.size) {
        this.count++;
        try {
          return await this.open();
        } catch (error) {
          this.count--;
          this.wakeOne();
          throw error;
        }
      }
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
  }

  private release(session: SmbSession, healthy: boolean): void {
    if (healthy && session.alive && !this.closed) {
      this.idle.push(session);
      this.timers.set(session, setTimeout(() => this.retire(session), this.idleMs).unref());
    } else {
      this.count--;
      session.kill();
    }
    this.wakeOne();
  }

  private retire(session: SmbSession): void {
    const at = this.idle.indexOf(session);
    if (at < 0) return;
    this.idle.splice(at, 1);
    this.timers.delete(session);
    this.count--;
    session.close().catch(() => {});
    this.wakeOne();
  }

  private wakeOne(): void {
    this.queue.shift()?.();
  }
}
