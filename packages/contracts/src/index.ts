// Effect Schemas shared by every Minutes app: events, configuration, API bodies.
export {};
