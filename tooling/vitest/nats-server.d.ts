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

/** How {@link startNatsServer} runs its server. */
export interface NatsServerOptions {
  /** Clients must sign in with this user name and password (`--user`, `--pass`). */
  readonly auth?: { readonly user: string; readonly pass: string };
}

/**
 * Starts a nats-server with JetStream on a free port of 127.0.0.1, its store in a temp dir;
 * resolves once it accepts connections (signed in, with `options.auth`). For tests that stop
 * NATS or wipe its data (never do that to the machine's shared server), or need it to ask for a
 * user name and password. Needs the `nats-server` binary; `close()` it in `afterAll`.
 */
export declare const startNatsServer: (options?: NatsServerOptions) => Promise<NatsServer>;
