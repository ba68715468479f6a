// A local Confluence (Cloud v2/v1 and Data Center v1) for tests and the demo.
export {};
