// Consumes ProtocolReady events from NATS JetStream and publishes them to Confluence.
export {};
