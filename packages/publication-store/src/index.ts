// MikroORM publication records: SQLite by default, PostgreSQL for several publishers.
export {};
