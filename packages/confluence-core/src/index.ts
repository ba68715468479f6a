// Typed Confluence REST client for Cloud (v2/v1) and Data Center (v1).
export {};
