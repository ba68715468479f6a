// Encrypted storage of Confluence tokens, and its CLI.
export {};
