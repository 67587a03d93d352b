/**
 * Who else used the CPU while a scenario ran. The machine's busy time (/proc/stat) minus what
 * the bench's own processes used (/proc/PID/stat of the servers; the bench process with its
 * reaped children, which includes every finished wrk) is CPU taken by other processes — a test
 * suite, a build — which the load had to share the two cores with. Hypervisor steal is kept
 * apart. Both are in cores (1.0 = one core busy for the whole window).
 */
import { readFileSync } from 'node:fs';

const HZ = 100; // USER_HZ: /proc figures are in 1/100 s on Linux

function machineTicks(): { busy: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return { busy: user + nice + system + irq + softirq, steal: steal ?? 0 };
}

function processTicks(pid: number | 'self', withChildren: boolean): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
    // rest[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17
    return rest[11] + rest[12] + (withChildren ? rest[13] + rest[14] : 0);
  } catch {
    return 0;
  }
}

export interface CpuUse {
  /** cores used by processes other than the bench's, on average over the window */
  other: number;
  /** cores stolen by the hypervisor */
  steal: number;
}

/** A window over which to attribute CPU time; `pids` are the bench's long-running servers. */
export class CpuWindow {
  private readonly t0 = performance.now();
  private readonly machine = machineTicks();
  private readonly ours: number;

  /** `extra`: more ticks of the bench's own (the PostgreSQL process tree with --postgres). */
  constructor(
    private readonly pids: number[],
    private readonly extra: () => number = () => 0,
  ) {
    this.ours = this.ownTicks();
  }

  private ownTicks(): number {
    return processTicks('self', true) + this.pids.reduce((sum, pid) => sum + processTicks(pid, false), 0) + this.extra();
  }

  end(): CpuUse {
    const seconds = (performance.now() - this.t0) / 1000;
    const m = machineTicks();
    const busy = m.busy - this.machine.busy;
    const ours = this.ownTicks() - this.ours;
    return { other: Math.max(0, busy - ours) / HZ / seconds, steal: (m.steal - this.machine.steal) / HZ / seconds };
  }
}

/**
 * Waits (up to `maxSeconds`) until other processes use under `threshold` cores over a 1 s
 * window, so a size's load does not start beside a test suite. Returns the last reading.
 */
export async function waitForQuiet(pids: number[], maxSeconds: number, threshold = 0.1, extra?: () => number): Promise<{ use: CpuUse; waited: number }> {
  const started = performance.now();
  let use: CpuUse;
  let announced = false;
  for (;;) {
    const window = new CpuWindow(pids, extra);
    await Bun.sleep(1000);
    use = window.end();
    const waited = (performance.now() - started) / 1000;
    if (use.other < threshold || waited >= maxSeconds) return { use, waited };
    if (!announced) {
      console.log(`  waiting for the machine to quieten: other processes use ${use.other.toFixed(2)} cores (up to ${maxSeconds} s)`);
      announced = true;
    }
  }
}
