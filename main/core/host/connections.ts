import { UserError } from '../errors';
import { Drive } from '../google/drive';
import type { EarthEngine } from '../google/earthengine';
import type { Session } from '../google/session';
import { scaledClock, systemClock, type Clock } from '../ports/clock';
import type { DrivePort } from '../ports/drive';
import type { GcsPort } from '../gcs/port';
import { gcsClientFor } from '../gcs/session-client';
import { connectEarthEngine } from '../session/connect-ee';
import type { EeConnection } from '../recipes';

/** How the host signs in for a job's Earth Engine project (the CLI's stored sign-in, the app's vault…). */
export type HostConnect = (project: string | undefined) => Promise<{ session: Session; timeScale: number }>;

export interface Connection {
  session: Session;
  ee: EarthEngine;
  /** What a recipe worker needs to build expressions with its own client. */
  eeConnection: EeConnection;
  drive: DrivePort;
  /** Cloud Storage, for jobs whose destination is a bucket (docs/cloud-storage.md). */
  gcs: GcsPort;
  /** The jobs' time: the system clock, at the emulator's pace when it is time-scaled (ports/clock.ts). */
  clock: Clock;
  project: string;
}

/**
 * The host's signed-in connections, one per Earth Engine project, made on first use and shared by the
 * jobs of that project. The Earth Engine client is one per process, so every job must use one project.
 */
export class ConnectionPool {
  private readonly connections = new Map<string, Promise<Connection>>();

  constructor(
    private readonly connect: HostConnect,
    /** Says a start-up hiccup of Earth Engine that is being tried again (the host's log). */
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  get(project: string | undefined): Promise<Connection> {
    const key = project ?? '';
    let c = this.connections.get(key);
    if (!c) {
      c = (async () => {
        const { session, timeScale } = await this.connect(project);
        for (const [k, other] of this.connections) {
          const conn = k === key ? undefined : await other.catch(() => undefined);
          if (conn && conn.project !== session.project) {
            throw new UserError(`these jobs use different Earth Engine projects (${conn.project}, ${session.project}); serve one project's jobs at a time`);
          }
        }
        // The time scale goes two ways from here: the EE client's own request pacing, and the jobs' clock.
        const ee = await connectEarthEngine(session, timeScale, this.warn);
        return { session, ee, eeConnection: ee.connection(), drive: new Drive(session), gcs: gcsClientFor(session), clock: scaledClock(systemClock, timeScale), project: session.project };
      })();
      this.connections.set(key, c);
      c.catch(() => this.connections.delete(key));
    }
    return c;
  }

  /** Forgets connections not in `used` (the default project changed, the account changed). */
  async forgetIdle(used: ReadonlySet<Connection>): Promise<void> {
    for (const [key, c] of [...this.connections]) {
      const conn = await c.catch(() => undefined);
      if (!conn || !used.has(conn)) this.connections.delete(key);
    }
  }

  /** The first connection made that works, if any. */
  async any(): Promise<Connection | undefined> {
    for (const c of this.connections.values()) {
      const conn = await c.catch(() => undefined);
      if (conn) return conn;
    }
    return undefined;
  }

  /** Who the connections are signed in as (the emulator's own sign-in included); null before any. */
  async signedInAs(): Promise<string | null> {
    for (const c of this.connections.values()) {
      const conn = await c.catch(() => undefined);
      if (conn?.session.email) return conn.session.email;
    }
    return null;
  }
}
