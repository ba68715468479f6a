// Markdown to Confluence storage format, meeting date/topic extraction, page titles.
export {};
