-- The two roles, made once by a superuser before init.sql:
--   sudo -u postgres psql -v owner_password="'...'" -v service_password="'...'" -f roles.sql
--
-- sanctuary          owns the databases (init.sql, run as it) and every table in them; only
--                    `sanctuary prepare-stores`, `sanctuary audit reseal` and `sanctuary restore`
--                    run as it (the migration role).
-- sanctuary_service  what the services connect as. `sanctuary prepare-stores --grant
--                    sanctuary_service` lets it read every table and insert into them, and
--                    shred a person's key; nothing else: no UPDATE, DELETE or TRUNCATE, and,
--                    owning nothing, no ALTER, DROP or DISABLE TRIGGER.
CREATE ROLE sanctuary LOGIN CREATEDB PASSWORD :owner_password;
CREATE ROLE sanctuary_service LOGIN PASSWORD :service_password;
