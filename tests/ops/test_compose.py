"""docker-compose.yml against the Compose Specification and against this code.

No Docker engine runs on our build machines, so the compose file is never
started here; these tests check what can be checked without one: the file
is valid Compose, it runs every service of ours (and only those), each
variable it sets is one the code reads, each interpolation has a default or
an error message, each file it mounts exists, each service is health-checked
on its ops port, and Prometheus scrapes every service.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest
import yaml

from sanctuary.launch import free_port
from sanctuary.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = Path(__file__).with_name("compose-spec.json")  # source: COMPOSE_SPEC_SOURCE.txt
DOCKERFILE = "deploy/Dockerfile"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA_PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
SECRETS_DIR = "deploy/secrets/"  # created on the server, never committed
APP_DIR = PurePosixPath("/app")  # the image's WORKDIR: a copy of (part of) the repository


@functools.cache
def compose() -> dict[str, Any]:
    # safe_load resolves YAML merge keys (<<), as Compose does before validating
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def builds_our_image(service: dict[str, Any]) -> bool:
    build = service.get("build")
    if not isinstance(build, dict):
        return False
    context = Path(build.get("context", "."))
    return (ROOT / context / build.get("dockerfile", "Dockerfile")).resolve() == ROOT / DOCKERFILE


def our_image_services() -> dict[str, dict[str, Any]]:
    """Every service that runs the image deploy/Dockerfile builds."""
    images = {s.get("image") for s in services().values() if builds_our_image(s)} - {None}
    return {name: s for name, s in services().items() if builds_our_image(s) or s.get("image") in images}


def our_services() -> dict[str, dict[str, Any]]:
    """Our image with its own entrypoint (``sanctuary``): the services of sanctuary.cli."""
    return {name: s for name, s in our_image_services().items() if "entrypoint" not in s}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def ops_port(name: str) -> int:
    address = environment(services()[name]).get("SANCTUARY_OPS_ADDRESS", "")
    return int(address.rpartition(":")[2])


def with_defaults(text: str) -> str:
    """``text`` interpolated as if no variable were set (their defaults)."""
    return re.sub(r"\$\{[A-Za-z_]\w*:?-([^}]*)\}", r"\1", text)


def strings(node: Any) -> list[str]:
    """Every string in the document, keys and values, where Compose interpolates."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*strings(key), *strings(value))]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return []


# -- (a) valid Compose ---------------------------------------------------------------------


def test_the_schema_is_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "Compose Specification"
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_the_compose_file_matches_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)  # draft 2019-09, as $schema says

    def where(error: jsonschema.ValidationError) -> str:
        return "/".join(str(part) for part in error.absolute_path) or "(top level)"

    problems = []
    for error in sorted(validator.iter_errors(compose()), key=lambda e: list(map(str, e.absolute_path))):
        problems.append(f"{where(error)}: {error.message}")
        # a oneOf (build, ports, volumes ...) says why each alternative did not fit
        problems += [f"    {where(sub)}: {sub.message}" for sub in error.context or ()]
    assert not problems, "docker-compose.yml is not valid Compose:\n" + "\n".join(problems)


# -- (b) every service of ours, and only those --------------------------------------------------


def test_the_image_runs_the_sanctuary_command() -> None:
    dockerfile = (ROOT / DOCKERFILE).read_text(encoding="utf-8")
    assert re.search(r'^ENTRYPOINT \["sanctuary"\]$', dockerfile, re.M), \
        "the services' commands are `sanctuary` subcommands"


def test_the_image_can_back_up_and_restore_postgresql() -> None:
    """`sanctuary backup` and `restore` run pg_dump and pg_restore (sanctuary/backup.py)."""
    dockerfile = (ROOT / DOCKERFILE).read_text(encoding="utf-8")
    assert re.search(r"apt-get install [^\n]*postgresql-client", dockerfile), \
        "the image needs postgresql-client for pg_dump and pg_restore"
    server = services()["postgres"]["image"]
    assert server == "postgres:15" and "python:3.11-slim" in dockerfile, \
        "bookworm's postgresql-client is 15: pg_dump refuses a newer server"


def test_only_loopback_addresses_publish_ports() -> None:
    """Nothing reaches a container from another machine: TLS (deploy/nginx) is the public door."""
    for name, service in services().items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every address"


def test_every_service_runs_in_compose_once_under_its_own_name() -> None:
    served: dict[str, str] = {}
    for name, service in our_services().items():
        command = service.get("command")
        assert isinstance(command, list) and len(command) == 2 and command[0] == "serve", \
            f"{name}: runs our image, so its command must be ['serve', <service>], not {command!r}"
        assert command[1] in SERVICES, f"{name}: {command[1]!r} is not a service in sanctuary/cli.py"
        # Prometheus and the other services reach it by its compose name
        assert command[1] == name, f"the compose service {name!r} serves {command[1]!r}"
        served[name] = command[1]
    missing = sorted(set(SERVICES) - set(served.values()))
    assert not missing, f"services of sanctuary/cli.py that docker-compose.yml does not run: {missing}"


COMPLETED = "service_completed_successfully"


def one_shot(name: str) -> bool:
    """A step run once before the services, which wait for it to finish well (the tables made)."""
    waited = any((s.get("depends_on") or {}).get(name, {}).get("condition") == COMPLETED
                 for s in services().values())
    return waited and services()[name].get("restart") == "no"


def test_helpers_on_our_image_run_modules_that_exist_and_only_in_a_profile() -> None:
    for name, service in our_image_services().items():
        if "entrypoint" not in service:
            continue
        entrypoint = service["entrypoint"]
        assert entrypoint[:2] == ["python", "-m"], f"{name}: expected `python -m <module>`"
        module = Path(*entrypoint[2].split("."))
        assert (ROOT / module).with_suffix(".py").exists(), f"{name}: no module {entrypoint[2]}"
        assert service.get("profiles") or one_shot(name), \
            f"{name}: a helper, not for production: give it a profile"


def test_the_services_connect_as_their_role_on_tables_the_owner_made() -> None:
    """Issue 20: the services may only read and insert; the owner made the tables and granted that."""
    owner = environment(services()["postgres"])["POSTGRES_USER"]
    script = (ROOT / "deploy" / "postgres" / "service-role.sh").read_text(encoding="utf-8")
    role = re.search(r"CREATE ROLE (\w+) LOGIN", script).group(1)
    prepare = services()["prepare-stores"]
    assert one_shot("prepare-stores")
    assert prepare["command"] == ["prepare-stores", "--grant", role]
    assert environment(prepare)["POSTGRES_USER"] == owner != role
    on_postgres = {name: environment(s) for name, s in our_services().items()
                   if environment(s).get("SANCTUARY_STORE") == "postgres"}
    assert on_postgres
    for name, env in on_postgres.items():
        assert env["POSTGRES_USER"] == role, f"{name} connects as {env['POSTGRES_USER']}, not {role}"
        assert env["POSTGRES_PASSWORD"] != environment(prepare)["POSTGRES_PASSWORD"], name
        assert services()[name]["depends_on"]["prepare-stores"]["condition"] == COMPLETED
        databases = {k for k in env if k.endswith("_POSTGRES_DBNAME")}
        assert databases <= set(environment(prepare)), f"prepare-stores does not make {name}'s tables"


# -- (c) every variable set is read --------------------------------------------------------------


@functools.cache
def source_text() -> str:
    files = sorted(path for folder in ("shared", "services", "sanctuary")
                   for path in ROOT.joinpath(folder).rglob("*.py"))
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


@functools.cache
def eventsourcing_keys() -> frozenset[str]:
    """The POSTGRES_* settings eventsourcing reads itself, from its own factory."""
    from eventsourcing.postgres import PostgresFactory

    return frozenset(value for key, value in inspect.getmembers(PostgresFactory)
                     if key.startswith("POSTGRES_") and value == key)


def application_names(service: str) -> set[str]:
    """The names of the service's eventsourcing Applications: their env prefix, upper-cased."""
    from eventsourcing.application import Application

    try:
        module = importlib.import_module(f"services.{service}.application")
    except ModuleNotFoundError as error:
        if error.name != f"services.{service}.application":
            raise
        return set()
    return {cls.name for cls in vars(module).values()
            if inspect.isclass(cls) and issubclass(cls, Application) and cls.__module__ == module.__name__}


def reads(key: str, service: str) -> bool:
    text = source_text()
    if re.search(rf"\b{re.escape(key)}\b", text):
        return True
    for secret in re.findall(r'load_secret\(\s*"(\w+)"', text):  # SANCTUARY_<NAME>[_FILE]
        if key in (f"SANCTUARY_{secret.upper()}", f"SANCTUARY_{secret.upper()}_FILE"):
            return True
    if key in eventsourcing_keys():
        return True
    # eventsourcing looks for <APPLICATION NAME>_<KEY> before <KEY>
    return any(key == f"{app.upper()}_{setting}"
               for app in application_names(service) for setting in eventsourcing_keys())


def test_every_variable_compose_sets_for_our_services_is_read() -> None:
    unread = [f"{name}: {key}" for name, service in our_services().items()
              for key in environment(service) if not reads(key, name)]
    assert not unread, "variables docker-compose.yml sets that no code reads:\n" + "\n".join(unread)


def test_each_service_on_postgres_has_its_own_database() -> None:
    init_sql = (ROOT / "deploy" / "postgres" / "init.sql").read_text(encoding="utf-8")
    created = set(re.findall(r"CREATE DATABASE (\w+);", init_sql))
    databases: dict[str, str] = {}
    for name, service in our_services().items():
        env = environment(service)
        if env.get("SANCTUARY_STORE") != "postgres":
            continue
        for app in application_names(name):
            database = env.get(f"{app.upper()}_POSTGRES_DBNAME")
            assert database, f"{name}: set {app.upper()}_POSTGRES_DBNAME"
            assert database in created, f"{name}: deploy/postgres/init.sql does not create {database}"
            assert database not in databases, f"{name} and {databases[database]} share {database}"
            databases[database] = name
    assert databases, "no service of ours is on PostgreSQL"


# -- (d) interpolation ---------------------------------------------------------------------------


def test_every_interpolation_has_a_default_or_an_error_message() -> None:
    problems = []
    for text in strings(compose()):
        for match in re.finditer(r"\$(\$|\{[^}]*\}|[A-Za-z_]\w*)", text):
            found = match.group(1)
            if found == "$":  # $$ is a literal dollar
                continue
            if not found.startswith("{"):
                problems.append(f"${found} (write ${{{found}:-default}} or ${{{found}:?message}})")
            elif not re.fullmatch(r"\{[A-Za-z_]\w*(:?-.*|:?\?.+)\}", found):
                problems.append(f"${found} has neither a default (:-) nor an error message (:?)")
    assert not problems, "\n".join(problems)


# -- (e) files ----------------------------------------------------------------------------------


def bind_sources(service: dict[str, Any]) -> list[str]:
    sources = []
    for volume in service.get("volumes", ()):
        if isinstance(volume, str):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/", "~")):  # otherwise a named volume
                sources.append(source)
        elif volume.get("type") == "bind":
            sources.append(volume["source"])
    return sources


def test_every_file_compose_mounts_or_builds_from_exists() -> None:
    missing = []

    def check(what: str, path: str) -> None:
        if not (ROOT / path).exists():
            missing.append(f"{what}: {path}")

    for name, service in services().items():
        build = service.get("build")
        if isinstance(build, dict):
            check(f"{name} build context", build.get("context", "."))
            context = Path(build.get("context", "."))
            check(f"{name} Dockerfile", str(context / build.get("dockerfile", "Dockerfile")))
        for source in bind_sources(service):
            check(f"{name} mount", source)
        for env_file in service.get("env_file", ()) if isinstance(service.get("env_file"), list) else ():
            check(f"{name} env_file", env_file if isinstance(env_file, str) else env_file["path"])
    for name, config in (compose().get("configs") or {}).items():
        if "file" in config:
            check(f"config {name}", config["file"])
    for name, secret in (compose().get("secrets") or {}).items():
        if "file" in secret and not Path(secret["file"]).as_posix().startswith(SECRETS_DIR):
            check(f"secret {name} (only {SECRETS_DIR} may be made on the server)", secret["file"])
    assert not missing, "docker-compose.yml refers to files the repository does not have:\n" + \
        "\n".join(missing)


def test_secrets_made_on_the_server_are_never_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert SECRETS_DIR in ignored or SECRETS_DIR.rstrip("/") in ignored, f".gitignore must list {SECRETS_DIR}"


def test_the_dockerfile_copies_only_what_exists() -> None:
    for line in (ROOT / DOCKERFILE).read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"{DOCKERFILE}: COPY {source}: no such file"


def test_paths_in_the_image_that_compose_names_exist() -> None:
    """A variable naming /app/... (by default) names a file copied from the repository."""
    for name, service in our_image_services().items():
        for key, value in environment(service).items():
            path = PurePosixPath(with_defaults(value))
            if path.is_relative_to(APP_DIR):
                relative = path.relative_to(APP_DIR)
                assert (ROOT / relative).exists(), f"{name}: {key}={path}, but there is no {relative}"


# -- (f) health --------------------------------------------------------------------------------


def test_each_service_is_health_checked_on_its_ops_port() -> None:
    for name, service in our_services().items():
        address = environment(service).get("SANCTUARY_OPS_ADDRESS")
        assert address, f"{name}: set SANCTUARY_OPS_ADDRESS, or it serves no /metrics and no health"
        host, _, port = address.rpartition(":")
        assert host == "0.0.0.0", \
            f"{name}: ops address {address}: Prometheus scrapes it from its own container"
        assert port.isdigit(), f"{name}: ops address {address} has no port"
        check = service.get("healthcheck") or {}
        assert not check.get("disable"), f"{name}: health check disabled"
        test = check.get("test")
        assert test, f"{name}: no health check"
        command = " ".join(test) if isinstance(test, list) else test
        assert re.search(rf"(127\.0\.0\.1|localhost):{port}/health/ready\b", command), \
            f"{name}: the health check must ask /health/ready on the ops port {port}: {command}"


def test_dependencies_wait_until_healthy() -> None:
    for name, service in services().items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on without a condition waits for nothing"
        for dependency, how in depends.items():
            if one_shot(dependency):
                continue
            assert how.get("condition") == "service_healthy", f"{name} -> {dependency}: wait until healthy"
            assert services()[dependency].get("healthcheck"), \
                f"{dependency} is waited on but has no health check"


_FAKE_OPS = """
import http.server, sys
status = int(sys.argv[1])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(status if self.path == "/health/ready" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def _run_health_check(test: list[str], port: int, new_port: int) -> int:
    command = [sys.executable if part == "python" else part.replace(f":{port}/", f":{new_port}/")
               for part in test[1:]]
    return subprocess.run(command, capture_output=True, timeout=30).returncode


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_the_health_check_passes_only_when_ready(name: str) -> None:
    test, port = services()[name]["healthcheck"]["test"], ops_port(name)
    if test[:2] != ["CMD", "python"]:
        pytest.skip(f"{name}'s health check is not `python -c`")
    for status, passes in ((200, True), (503, False)):
        server = subprocess.Popen([sys.executable, "-c", _FAKE_OPS, str(status)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            fake_port = int(server.stdout.readline())
            assert (_run_health_check(test, port, fake_port) == 0) == passes, \
                f"{name}: the health check {'fails' if passes else 'passes'} on {status}"
        finally:
            server.terminate()
            server.wait(10)
    assert _run_health_check(test, port, free_port()) != 0, f"{name}: passes with nothing listening"


# -- (g) Prometheus -------------------------------------------------------------------------------


def prometheus_config() -> dict[str, Any]:
    if not PROMETHEUS.exists():
        pytest.skip(f"{PROMETHEUS.relative_to(ROOT)} is not written yet")
    return yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))


def test_prometheus_scrapes_every_service_by_its_compose_name() -> None:
    targets = {target for job in prometheus_config().get("scrape_configs", ())
               for static in job.get("static_configs", ()) for target in static.get("targets", ())}
    expected = {f"{name}:{ops_port(name)}" for name in our_services()}
    if "rabbitmq_prometheus" in json.dumps(compose().get("configs", {})):
        expected.add("rabbitmq:15692")
    missing = sorted(expected - targets)
    assert not missing, f"deploy/prometheus/prometheus.yml does not scrape {missing}"
    unknown = sorted(t for t in targets if t.rpartition(":")[0] not in services())
    assert not unknown, f"Prometheus scrapes hosts that are no compose service: {unknown}"


def container_to_host(service: str) -> dict[PurePosixPath, Path]:
    """Where the service's bind mounts put repository files inside its container."""
    mounts = {}
    for volume in services()[service].get("volumes", ()):
        if isinstance(volume, str) and volume.startswith("."):
            source, target = volume.split(":")[:2]
            mounts[PurePosixPath(target)] = ROOT / source
    return mounts


def host_path(service: str, path: PurePosixPath) -> Path | None:
    for target, source in container_to_host(service).items():
        if path == target or path.is_relative_to(target):
            return source / path.relative_to(target)
    return None


def test_prometheus_rule_files_are_mounted() -> None:
    config_dir = PurePosixPath("/etc/prometheus")  # the image's default --config.file is in it
    for rule_file in prometheus_config().get("rule_files", ()):
        found = host_path("prometheus", config_dir / rule_file)
        assert found is not None and found.exists(), \
            f"rule file {rule_file} is not mounted from the repository"


def test_grafana_provisioning_finds_the_dashboard_and_prometheus() -> None:
    dashboards = GRAFANA_PROVISIONING / "dashboards.yml"
    datasources = GRAFANA_PROVISIONING / "datasources.yml"
    if not dashboards.exists() or not datasources.exists():
        pytest.skip("deploy/grafana/provisioning is not written yet")
    for provider in yaml.safe_load(dashboards.read_text(encoding="utf-8")).get("providers", ()):
        folder = PurePosixPath(provider["options"]["path"])
        mounted = [target for target in container_to_host("grafana") if target.is_relative_to(folder)]
        assert mounted, \
            f"grafana: dashboards provider {provider.get('name')} reads {folder}, which nothing mounts"
    for source in yaml.safe_load(datasources.read_text(encoding="utf-8")).get("datasources", ()):
        host = re.sub(r"^\w+://", "", source.get("url", "")).split(":")[0].split("/")[0]
        assert host in services(), \
            f"grafana: datasource {source.get('name')} points at {host}, no compose service"
