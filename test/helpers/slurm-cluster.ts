// A real one-node Slurm cluster for tests: Debian's munge and slurm-wlm daemons (munged, slurmctld, slurmd) started in
// the foreground from a temporary folder with their own key, socket, ports, state and logs, so they touch nothing of
// the machine's and stop with exactly the processes this helper started. Needs root (SlurmUser=root) and the
// packages `munge slurm-wlm`, which .ci/run installs.
//
// The configuration is the smallest that runs job arrays without cgroups: proctrack/linuxproc, task/none,
// select/cons_tres with CR_CPU (each task gets its CPUs), no accounting (so sacct says it is disabled, as on many
// small clusters; the executor must cope), MinJobAge 600 s (ended tasks stay visible to squeue), KillWait 5 s.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface SlurmCluster {
  dir: string;
  /** The environment that points Slurm's client commands (sbatch, squeue, scancel) at this cluster. */
  env: NodeJS.ProcessEnv;
  /** Runs a client command against this cluster. */
  run(command: string, args: string[]): { code: number; stdout: string; stderr: string };
  /** Cancels every job, stops the three daemons, removes the folder (idempotent). */
  stop(): Promise<void>;
}

const DAEMONS = ['munged', 'slurmctld', 'slurmd'];

/** Why this machine cannot run the cluster (missing packages, not root), or null. */
export function slurmUnavailable(): string | null {
  const missing = [...DAEMONS, 'sbatch', 'squeue', 'scancel', 'sinfo'].filter(
    (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0,
  );
  if (missing.length) return `${missing.join(', ')} not installed (apt-get install munge slurm-wlm)`;
  if (process.getuid?.() !== 0) return 'the test cluster runs its daemons as root';
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => done(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'dfer-slurm-'));
  for (const d of ['state', 'spool', 'log']) mkdirSync(join(dir, d));
  const key = join(dir, 'munge.key');
  writeFileSync(key, randomBytes(1024));
  chmodSync(key, 0o400);
  const socket = join(dir, 'munge.socket');
  const node = hostname().split('.')[0];
  const ctldPort = await freePort();
  let dPort = await freePort();
  while (dPort === ctldPort) dPort = await freePort();
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=dfertest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'SlurmUser=root',
      'AuthType=auth/munge',
      `AuthInfo=socket=${socket}`,
      'CredType=cred/munge',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
      'AccountingStorageType=accounting_storage/none',
      'JobAcctGatherType=jobacct_gather/none',
      'JobCompType=jobcomp/none',
      'MpiDefault=none',
      'SwitchType=switch/none',
      'ReturnToService=2',
      'MinJobAge=600',
      'KillWait=5',
      'SchedulerParameters=sched_interval=1',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus().length} RealMemory=2000 State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const started: ChildProcess[] = [];
  const daemon = (cmd: string, args: string[]) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c) => (err = (err + c).slice(-2000)));
    child.on('exit', (code) => code && process.stderr.write(`test slurm cluster: ${cmd} exited ${code}: ${err}\n`));
    started.push(child);
    return child;
  };
  const run = (command: string, args: string[]) => {
    const r = spawnSync(command, args, { env, encoding: 'utf8' });
    return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (started.some((c) => c.exitCode === null)) run('scancel', ['--full', '-u', String(process.getuid?.() ?? 0)]);
    await sleep(started.length === 3 ? 500 : 0);
    // slurmd first (it reaps its job steps), then the controller, then munge.
    for (const child of [...started].reverse()) {
      if (child.exitCode !== null || child.signalCode) continue;
      child.kill('SIGTERM');
      const t0 = Date.now();
      while (child.exitCode === null && !child.signalCode && Date.now() - t0 < 5000) await sleep(50);
      if (child.exitCode === null && !child.signalCode) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    daemon('munged', [
      '-F',
      '-f',
      `--key-file=${key}`,
      `--socket=${socket}`,
      `--pid-file=${join(dir, 'munged.pid')}`,
      `--log-file=${join(dir, 'log', 'munged.log')}`,
      `--seed-file=${join(dir, 'munge.seed')}`,
    ]);
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50);
    if (!existsSync(socket)) throw new Error('munged did not create its socket');
    daemon('slurmctld', ['-D', '-c', '-f', conf]);
    daemon('slurmd', ['-D', '-f', conf]);
    // Ready when the node is idle.
    for (let i = 0; i < 200; i++) {
      const s = run('sinfo', ['-h', '-o', '%T']);
      if (s.code === 0 && /^idle/m.test(s.stdout)) break;
      if (started.some((c) => c.exitCode !== null)) break;
      await sleep(100);
    }
    const s = run('sinfo', ['-h', '-o', '%T']);
    if (!/^idle/m.test(s.stdout)) {
      const log = (f: string) =>
        existsSync(join(dir, 'log', f))
          ? readFileSync(join(dir, 'log', f), 'utf8')
              .split('\n')
              .slice(-5)
              .join(' | ')
          : '';
      throw new Error(
        `the test Slurm cluster did not come up (sinfo: ${s.stdout.trim() || s.stderr.trim()}; slurmctld: ${log('slurmctld.log')}; slurmd: ${log('slurmd.log')})`,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, env, run, stop };
}
