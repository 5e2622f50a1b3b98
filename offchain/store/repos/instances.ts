import type { SqlExecutor } from "../engine";

/** A process of a service instance: the instance's stable identity and the epoch this process started under. */
export interface InstanceClaim {
  instance: string;
  epoch: number;
}

export interface InstanceRow {
  instanceId: string;
  epoch: number;
  host: string;
  pid: number;
  startedAt: number;
  /** 0 once the process stopped cleanly. */
  heartbeatAt: number;
}

/** The service instances sharing this store and the epoch of each one's current process. */
export class InstanceRepository {
  constructor(private readonly db: SqlExecutor) {}

  /** Records a new process of `instanceId` and returns its epoch (one more than the previous process's). */
  async register(instanceId: string, host: string, pid: number, now = Date.now()): Promise<number> {
    const rows = await this.db.query<{ epoch: number | string }>(
      `INSERT INTO service_instances (instance_id, epoch, host, pid, started_at, heartbeat_at)
       VALUES ($1, 1, $2, $3, $4, $4)
       ON CONFLICT (instance_id) DO UPDATE SET epoch = service_instances.epoch + 1, host = $2, pid = $3,
         started_at = $4, heartbeat_at = $4
       RETURNING epoch`,
      [instanceId, host, pid, now],
    );
    return Number(rows[0].epoch);
  }

  /** Marks the process alive; false when a newer process of the same instance has registered since. */
  async heartbeat(instanceId: string, epoch: number, now = Date.now()): Promise<boolean> {
    return (
      (await this.db.run("UPDATE service_instances SET heartbeat_at = $3 WHERE instance_id = $1 AND epoch = $2", [
        instanceId,
        epoch,
        now,
      ])) === 1
    );
  }

  /** A clean stop: the process is gone from now on (its pending claims may be retried at once). */
  async retire(instanceId: string, epoch: number): Promise<void> {
    await this.db.run("UPDATE service_instances SET heartbeat_at = 0 WHERE instance_id = $1 AND epoch = $2", [
      instanceId,
      epoch,
    ]);
  }

  async list(): Promise<InstanceRow[]> {
    const rows = await this.db.query<{
      instance_id: string;
      epoch: number | string;
      host: string;
      pid: number | string;
      started_at: number | string;
      heartbeat_at: number | string;
    }>("SELECT * FROM service_instances ORDER BY instance_id");
    return rows.map((r) => ({
      instanceId: r.instance_id,
      epoch: Number(r.epoch),
      host: r.host,
      pid: Number(r.pid),
      startedAt: Number(r.started_at),
      heartbeatAt: Number(r.heartbeat_at),
    }));
  }
}
