-- A database per service: each owns its event store, and no service reads another's.
CREATE DATABASE accounts;
CREATE DATABASE pledges;
CREATE DATABASE applications;
CREATE DATABASE events;
CREATE DATABASE notifications;
CREATE DATABASE library;
