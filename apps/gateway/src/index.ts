// The REST front door: event intake, publish and retry, publications, statistics, replay, health and metrics.
export {};
