-- A database per service: each owns its event store, and no service reads another's.
-- Run as the owner role (roles.sql), so it owns them. Only the owner may create in their
-- schemas: the services' role may not (PostgreSQL 15 and later refuse it by default; earlier
-- versions need the REVOKE, made per database by `sanctuary prepare-stores`).
CREATE DATABASE accounts;
CREATE DATABASE pledges;
CREATE DATABASE applications;
CREATE DATABASE events;
CREATE DATABASE notifications;
CREATE DATABASE library;
