/** A private nats-server with JetStream. */
export interface NatsServer {
  readonly url: string;
  /** Stops it (SIGTERM) and waits until it exited. */
  readonly stop: () => Promise<void>;
  /** Deletes its JetStream store (call while it is stopped). */
  readonly wipe: () => void;
  /** Starts it again on the same port; resolves once it accepts connections. */
  readonly start: () => Promise<void>;
  /** Stops it and deletes its directory. */
  readonly close: () => Promise<void>;
}

/**
 * Starts a nats-server with JetStream on a free port of 127.0.0.1, its store in a temp dir;
 * resolves once it accepts connections. For tests that stop NATS or wipe its data (never do that
 * to the machine's shared server). Needs the `nats-server` binary; `close()` it in `afterAll`.
 */
export declare const startNatsServer: () => Promise<NatsServer>;
