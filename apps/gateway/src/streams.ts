/**
 * Creates or updates the protocol and outcome streams from the contracts' settings, so the
 * gateway can accept events before any publisher ever ran. Updating keeps retention and
 * de-duplication in line with the configuration on every start.
 */

import {
  type MinutesConfig,
  outcomeStreamSettings,
  protocolStreamSettings,
  type StreamSettings,
} from "@minutes/contracts";
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

/** The names of the two streams for a configuration. */
export const streamNames = (
  nats: MinutesConfig["nats"],
): { readonly protocol: string; readonly outcome: string } => ({
  protocol: protocolStreamSettings(nats).name,
  outcome: outcomeStreamSettings(nats).name,
});

/** Makes sure both streams exist with the configured subjects, duplicate window and age. */
export const ensureStreams = async (jsm: JetStreamManager, nats: MinutesConfig["nats"]): Promise<void> => {
  await ensureStream(jsm, protocolStreamSettings(nats));
  await ensureStream(jsm, outcomeStreamSettings(nats));
};

/** Whether a JetStream error says the stream or consumer does not exist. */
export const isNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound);

// internal

const ensureStream = async (jsm: JetStreamManager, s: StreamSettings): Promise<void> => {
  const wanted = {
    subjects: [...s.subjects],
    duplicate_window: nanos(s.duplicateWindowMs),
    max_age: nanos(s.maxAgeMs),
  };
  try {
    const info = await jsm.streams.info(s.name);
    await jsm.streams.update(s.name, { ...info.config, ...wanted });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.streams.add({ name: s.name, ...wanted });
  }
};
