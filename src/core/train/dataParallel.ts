/**
 * Data-parallel training: the training process (the leader) and N−1 forked worker processes
 * serving as replicas (src/worker/replica.ts, protocol src/core/protocol.ts) each compute the gradients of their share of every batch; the leader
 * averages them, weighted by share size, and one identical optimizer update keeps the weights in
 * sync. Batch statistics (GCCS's class means and covariances, BatchNorm) are those of each share,
 * and BatchNorm's moving averages follow the leader's shares only.
 */
import { createHash } from 'node:crypto';
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { makeBatch } from '../data/batches';
import type { Random } from '../random';
import type { Examples } from '../data/types';
import type { BackendName } from '../backend';
import { workerThreadsEnv } from '../backend/threadCount';
import type { LossConfig } from '../loss';
import { Optimizer } from './optimizer';
import type { OptimizerConfig } from './options';
import { batchGradientArrays } from './step';
import { mixSeed } from '../models/dropout';
import type { ReplicaMessage, ReplicaRequest, WorkerMessage } from '../protocol';
import { WorkerClient, WorkerEnd, hungText } from '../workerClient';

/**
 * How replicas stay in sync after the leader has averaged the gradients: `gradients` sends the
 * average and every replica applies the same update; `weights` lets the leader alone apply it and
 * sends the new weights.
 */
export type ReplicaSync = 'gradients' | 'weights';

/** One share of a batch: its pixels [n, H, W, C] and labels. */
export interface BatchShare {
  x: Float32Array;
  labels: Int32Array;
}

/**
 * Share `rank` of `count` consecutive, nearly equal shares of `indices`: its pixels and labels.
 * With `shift`, making the shares in rank order draws the shifts one batch would.
 */
export function batchShare(examples: Examples, indices: Int32Array, rank: number, count: number, shift?: { maxShift: number; random: Random }): BatchShare {
  const share = indices.subarray(Math.round((rank * indices.length) / count), Math.round(((rank + 1) * indices.length) / count));
  const { x, y } = makeBatch(examples, share, shift);
  const pixels = x.dataSync().slice() as Float32Array;
  tf.dispose([x, y]);
  return { x: pixels, labels: Int32Array.from(share, (i) => examples.labels[i]) };
}

interface Replica {
  client: WorkerClient;
  pid: number;
  /** Settles once the last message sent to it is written to its channel. */
  written?: Promise<void>;
  /** Resolves with its next message. */
  waiting?: { resolve: (message: ReplicaMessage | { type: 'ready' }) => void; reject: (error: Error) => void };
}

export interface ReplicaGroupOptions {
  /** Processes in all, the leader included (≥ 2). */
  processes: number;
  backend: BackendName;
  model: tfl.LayersModel;
  variables: tf.Variable[];
  optimizer: Optimizer;
  optimizerConfig: OptimizerConfig;
  loss: LossConfig;
  sync?: ReplicaSync;
  /** A replica silent this long is hung: killed, and the group fails; default WORKER_LIMITS.heartbeatTimeoutMs. */
  heartbeatTimeoutMs?: number;
}

/** The leader's handle on its replicas; `close` ends them. */
export class ReplicaGroup {
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly options: ReplicaGroupOptions & { sync: ReplicaSync },
    private readonly replicas: Replica[],
  ) {}

  /** The replicas' process ids. */
  get pids(): number[] {
    return this.replicas.map((replica) => replica.pid);
  }

  /** Forks the replica workers and gives each the model, its weights and the optimizer state. */
  static async start(options: ReplicaGroupOptions): Promise<ReplicaGroup> {
    const replicas: Replica[] = [];
    const group = new ReplicaGroup({ sync: 'gradients', ...options }, replicas);
    for (let r = 1; r < options.processes; r++) {
      const replica = {} as Replica;
      // 'advanced' serialization sends typed arrays as bytes, not JSON.
      replica.client = new WorkerClient(
        { serialization: 'advanced', heartbeatTimeoutMs: options.heartbeatTimeoutMs, env: workerThreadsEnv(options.processes) },
        { onMessage: (message) => group.onMessage(replica, message), onExit: (end) => group.onExit(replica, end) },
      );
      replica.pid = replica.client.pid;
      replicas.push(replica);
    }
    const optimizerState = group.options.sync === 'gradients' ? options.optimizer.saveState() : null;
    const artifacts = await modelArtifacts(options.model);
    const init: ReplicaRequest = { type: 'replicaInit', artifacts, loss: options.loss, optimizer: options.optimizerConfig, optimizerState };
    try {
      await Promise.all(replicas.map((replica) => group.request(replica, { type: 'init', backend: options.backend }, 'ready')));
      await Promise.all(replicas.map((replica) => group.request(replica, init, 'replicaReady')));
    } catch (error) {
      await group.close();
      throw error;
    }
    return group;
  }

  /**
   * One training step on a batch cut into one share per process: `share(rank)`, called in rank
   * order. Replica r takes share r − 1 as soon as it is made; the leader takes the last one and
   * works on it while the replicas work on theirs. Returns the batch's mean loss and how many
   * samples it got right. Share r's dropout masks come from mixSeed(stepSeed, r).
   */
  async step(share: (rank: number) => BatchShare, imageShape: number[], learningRate: number, stepSeed: number): Promise<{ loss: number; hits: number }> {
    const { model, variables, optimizer, loss, sync } = this.options;
    const shares: BatchShare[] = [];
    // A batch smaller than the group leaves some processes without a share.
    const pending = this.replicas.map((replica, r) => {
      const mine = share(r);
      shares.push(mine);
      if (mine.labels.length === 0) return Promise.resolve(null);
      return this.request(replica, { type: 'replicaStep', x: mine.x, shape: [mine.labels.length, ...imageShape], labels: mine.labels, dropoutSeed: mixSeed(stepSeed, r) }, 'gradients');
    });
    const answers = Promise.all(pending);
    // Marked as handled: a replica may fail before the leader awaits the answers below.
    answers.catch(() => undefined);
    const own = share(this.replicas.length);
    shares.push(own);
    // A message larger than the pipe's buffer is written on by the event loop, which the local
    // pass below would block: the replicas would wait for the rest of their share until it ends.
    await Promise.all(this.replicas.map((replica) => replica.written));
    const total = shares.reduce((n, s) => n + s.labels.length, 0);
    let local: { gradients: Float32Array[]; loss: number; hits: number } | null = null;
    if (own.labels.length > 0) {
      const x = tf.tensor4d(own.x, [own.labels.length, ...imageShape] as [number, number, number, number]);
      local = batchGradientArrays(model, variables, loss, x, own.labels, mixSeed(stepSeed, this.replicas.length));
      x.dispose();
    }
    const results = [...(await answers), local];

    // The batch's gradient is the mean over its samples: each share's mean weighted by its size.
    const averaged = variables.map((v) => new Float32Array(v.size));
    let lossSum = 0;
    let hits = 0;
    results.forEach((result, r) => {
      if (!result) return;
      const weight = shares[r].labels.length / total;
      lossSum += result.loss * weight;
      hits += result.hits;
      result.gradients.forEach((g, i) => {
        const sum = averaged[i];
        for (let j = 0; j < g.length; j++) sum[j] += weight * g[j];
      });
    });

    tf.tidy(() => optimizer.apply(averaged.map((g, i) => tf.tensor(g, variables[i].shape)), learningRate));
    const update: ReplicaRequest =
      sync === 'gradients'
        ? { type: 'applyGradients', gradients: averaged, learningRate }
        : { type: 'setWeights', weights: variables.map((v) => v.dataSync() as Float32Array) };
    // Replicas take it before their next share: messages arrive in order, so no answer is awaited.
    for (const replica of this.replicas) this.send(replica, update);
    return { loss: lossSum, hits };
  }

  /**
   * Checks that every replica holds exactly the leader's weights (the same update on the same
   * numbers gives the same bits), so that a drifting replica cannot go unnoticed.
   */
  async assertInSync(): Promise<void> {
    const expected = weightsDigest(this.options.variables);
    const answers = await Promise.all(this.replicas.map((replica) => this.request(replica, { type: 'digest' }, 'digest')));
    answers.forEach(({ digest }, r) => {
      if (digest !== expected) throw new Error(`training replica ${this.replicas[r].pid} no longer holds the leader's weights`);
    });
  }

  /** Ends the replicas (they exit when their channel closes) and waits until they have. */
  async close(): Promise<void> {
    this.closed = true;
    for (const replica of this.replicas) replica.client.close();
    await Promise.all(this.replicas.map((replica) => replica.client.exited));
  }

  private send(replica: Replica, request: ReplicaRequest | { type: 'init'; backend: BackendName }): void {
    if (this.failure) throw this.failure;
    // A failed write shows as the replica's exit, which fails the group.
    replica.written = replica.client.send(request);
  }

  private request<T extends ReplicaMessage['type'] | 'ready'>(replica: Replica, request: ReplicaRequest | { type: 'init'; backend: BackendName }, answer: T): Promise<Extract<ReplicaMessage | { type: 'ready' }, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      replica.waiting = {
        resolve: (message) => {
          if (message.type === answer) resolve(message as Extract<ReplicaMessage | { type: 'ready' }, { type: T }>);
          else reject(new Error(`training replica ${replica.pid} answered ${message.type} to ${request.type}`));
        },
        reject,
      };
      this.send(replica, request);
    });
  }

  private onMessage(replica: Replica, message: WorkerMessage): void {
    if (message.type === 'error') return this.fail(new Error(`training replica ${replica.pid} failed: ${message.message}`));
    // Heartbeats (its watchdog's business) and log lines answer nothing.
    if (message.type !== 'ready' && message.type !== 'replicaReady' && message.type !== 'gradients' && message.type !== 'digest') return;
    const waiting = replica.waiting;
    replica.waiting = undefined;
    waiting?.resolve(message);
  }

  private onExit(replica: Replica, { how, hung, said }: WorkerEnd): void {
    if (this.closed) return;
    this.fail(new Error(hung ? `training replica: ${hungText(replica.client)}` : `training replica ${replica.pid} stopped (${how})${said ? `: ${said}` : ''}`));
  }

  /** The first failure stops the group: every pending and later request rejects with it. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const replica of this.replicas) {
      const waiting = replica.waiting;
      replica.waiting = undefined;
      waiting?.reject(this.failure);
    }
  }
}

/** SHA-256 of the variables' values, in order. */
export function weightsDigest(variables: tf.Variable[]): string {
  const hash = createHash('sha256');
  for (const v of variables) hash.update(new Uint8Array((v.dataSync() as Float32Array).slice().buffer));
  return hash.digest('hex');
}

/** The model's topology and weights in memory, as a replica rebuilds it. */
async function modelArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return captured!;
}
