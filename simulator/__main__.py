"""Command line of the simulator.

``python -m simulator serve [--scenario NAME,...]|scale|kill-pod|add-namespace|apply`` (the Kubernetes side; the
opt-in traffic scenarios are in :mod:`simulator.scenarios`) and
``set-profile|set-traffic`` (the traffic engine of a running ``serve``, addressed by ``--url`` or by the
server of the kubeconfig).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from simulator import Simulator, control
from simulator.errors import StoreError
from simulator.scenarios import parse_scenario_names
from simulator.synthetic import populate_synthetic

DEFAULT_KUBECONFIG = "var/simulator.kubeconfig"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m simulator``."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description="Bookinfo mesh simulator")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--kubeconfig", default=DEFAULT_KUBECONFIG, help="kubeconfig to write (serve) or use")
    target.add_argument("--url", default=None, help="simulator base URL for set-profile/set-traffic")
    parser.add_argument("--context", default=None, help="kubeconfig context (default: current)")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the simulated API server until SIGINT/SIGTERM")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=16443)
    serve.add_argument("--kubeconfig", dest="serve_kubeconfig", default=None)
    serve.add_argument("--namespace", default="bookinfo", help="namespace of the Bookinfo app")
    serve.add_argument("--seed", type=int, default=1, help="seed of the controller and the traffic")
    serve.add_argument(
        "--traffic",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="generate Bookinfo traffic and serve sidecar metrics at /metrics (default: on)",
    )
    serve.add_argument("--rps", type=float, default=10.0, help="user requests per second into the ingress gateway")
    serve.add_argument(
        "--gateway-api",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve the Kubernetes Gateway API kinds (--no-gateway-api: a cluster without their CRDs, lists 404)",
    )
    serve.add_argument(
        "--scenario",
        default="",
        metavar="NAME[,NAME]",
        help="opt-in traffic scenarios next to Bookinfo: no-sidecar, egress, unknown-host, aborted, ambient, "
        "east-west, or all (default: none)",
    )
    serve.add_argument(
        "--synthetic", default=None, metavar="NS,SVC,PODS", help="also load a synthetic cluster, e.g. 500,2000,10000"
    )
    scale = commands.add_parser("scale", help="scale a deployment")
    scale.add_argument("namespace")
    scale.add_argument("deployment")
    scale.add_argument("replicas", type=int)
    kill = commands.add_parser("kill-pod", help="delete a pod (the controller replaces it)")
    kill.add_argument("namespace")
    kill.add_argument("pod", nargs="?")
    kill.add_argument("--workload", default=None, help="delete one pod of this deployment")
    add_ns = commands.add_parser("add-namespace", help="create a namespace")
    add_ns.add_argument("name")
    add_ns.add_argument("--inject", action="store_true", help="label it istio-injection=enabled")
    apply = commands.add_parser("apply", help="create or replace the objects of a YAML file ('-': standard input)")
    apply.add_argument("file")
    apply.add_argument(
        "-n",
        "--namespace",
        default=None,
        help="namespace of objects without one (default, as kubectl: the kubeconfig context's, else 'default'); "
        "an object naming another namespace is refused",
    )
    profile = commands.add_parser("set-profile", help="change how a workload behaves (errors, latency)")
    profile.add_argument("namespace")
    profile.add_argument("workload")
    profile.add_argument("--error-rate", type=float, default=None, help="share of requests that fail, 0-1")
    profile.add_argument("--error-code", type=int, default=None, help="HTTP status of failures (default 503)")
    profile.add_argument("--latency-ms", type=float, default=None, help="own processing time in milliseconds")
    profile.add_argument("--latency-jitter", type=float, default=None, help="sigma of the log-normal jitter")
    profile.add_argument("--response-bytes", type=int, default=None, help="size of successful responses")
    profile.add_argument("--reset", action="store_true", help="return the workload to its default profile")
    traffic = commands.add_parser("set-traffic", help="change the load of the traffic engine")
    traffic.add_argument("--rps", type=float, default=None, help="user requests per second")
    traffic.add_argument("--jason-share", type=float, default=None, help="share of requests as end-user jason, 0-1")
    return parser


def serve(args: argparse.Namespace) -> int:
    """Run the simulator in the foreground until interrupted."""
    try:
        scenarios = parse_scenario_names(args.scenario)
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 2
    sim = Simulator(
        namespace=args.namespace,
        seed=args.seed,
        traffic=args.traffic,
        rps=args.rps,
        gateway_api=args.gateway_api,
        scenarios=scenarios,
    )
    if args.synthetic:
        namespaces, services, pods = (int(part) for part in args.synthetic.split(","))
        populate_synthetic(sim.store, namespaces, services, pods, seed=args.seed)
    sim.start(host=args.host, port=args.port)
    # The context's namespace is Bookinfo's, so Istio's task commands (``kubectl apply -f samples/...``) work as
    # printed in the Istio docs.
    path = sim.write_kubeconfig(args.serve_kubeconfig or args.kubeconfig, namespace=args.namespace)
    print(f"simulator serving Kubernetes API at {sim.url} (kubeconfig: {path})", flush=True)
    if sim.traffic is not None:
        print(f"traffic at {args.rps:g} rps; sidecar metrics at {sim.url}/metrics", flush=True)
    if scenarios:
        print(f"scenarios: {', '.join(scenarios)}", flush=True)
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopped.wait(0.5):
        pass
    sim.stop()
    print("simulator stopped", flush=True)
    return 0


def control_traffic(args: argparse.Namespace) -> int:
    """``set-profile`` / ``set-traffic``: print the resulting state as JSON."""
    try:
        base_url = args.url or control.base_url_from_kubeconfig(args.kubeconfig, args.context)
        if args.command == "set-traffic":
            if args.rps is None and args.jason_share is None:
                print("set-traffic needs --rps and/or --jason-share", file=sys.stderr)
                return 2
            result = control.set_traffic(base_url, rps=args.rps, jason_share=args.jason_share)
        elif args.reset:
            result = control.reset_profile(base_url, args.namespace, args.workload)
        else:
            fields = {
                "error_rate": args.error_rate,
                "error_code": args.error_code,
                "latency_ms": args.latency_ms,
                "latency_jitter": args.latency_jitter,
                "response_bytes": args.response_bytes,
            }
            if all(value is None for value in fields.values()):
                print(
                    "set-profile needs at least one of --error-rate, --error-code, --latency-ms, ...", file=sys.stderr
                )
                return 2
            result = control.set_profile(base_url, args.namespace, args.workload, **fields)
    except control.SimulatorControlError as error:
        print(f"simulator refused: {error.message}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


def context_namespace(kubeconfig: str, context: str | None) -> str:
    """The namespace of the kubeconfig's (current) context, ``default`` when it names none (as kubectl)."""
    contexts, current = config.list_kube_config_contexts(config_file=kubeconfig)
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    return str(((chosen or {}).get("context") or {}).get("namespace") or "default")


def namespace_mismatch(text: str, namespace: str) -> str | None:
    """kubectl's refusal when a document names a namespace other than ``-n``'s, else None."""
    for document in yaml.safe_load_all(text):
        named = ((document or {}).get("metadata") or {}).get("namespace") if isinstance(document, dict) else None
        if named and named != namespace:
            return (
                f'the namespace from the provided object "{named}" does not match the namespace "{namespace}". '
                f"You must pass '--namespace={named}' to perform this operation."
            )
    return None


def apply_file(api: client.ApiClient, args: argparse.Namespace) -> int:
    """``apply``: the file's documents, in their own namespace, else ``-n``'s, else the context's."""
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    if args.namespace:
        refusal = namespace_mismatch(text, args.namespace)
        if refusal:
            print(f"error: {refusal}", file=sys.stderr)
            return 1
    namespace = args.namespace or context_namespace(args.kubeconfig, args.context)
    for line in control.apply_manifests(api, args.file, default_namespace=namespace, text=text):
        print(line)
    return 0


def server_error(error: ApiException) -> str:
    """An API error as kubectl prints it: ``Error from server (Reason): message``."""
    try:
        status = json.loads(error.body or "")
    except (TypeError, ValueError):
        status = None
    if isinstance(status, dict) and status.get("message"):
        return f"Error from server ({status.get('reason') or error.reason}): {status['message']}"
    return f"Error from server ({error.reason}): {error.status}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command in ("set-profile", "set-traffic"):
        return control_traffic(args)
    try:
        return cluster_command(args)
    except ApiException as error:
        print(server_error(error), file=sys.stderr)
    except (OSError, yaml.YAMLError, LookupError, StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
    return 1


def cluster_command(args: argparse.Namespace) -> int:
    """``scale``, ``kill-pod``, ``add-namespace`` and ``apply``, through the Kubernetes API."""
    api = control.api_client(args.kubeconfig, args.context)
    if args.command == "apply":
        return apply_file(api, args)
    if args.command == "scale":
        print(
            f"deployment {args.namespace}/{args.deployment} scaled to "
            f"{control.scale_deployment(api, args.namespace, args.deployment, args.replicas)}"
        )
    elif args.command == "kill-pod":
        if not args.pod and not args.workload:
            print("kill-pod needs a POD or --workload", file=sys.stderr)
            return 2
        print(f"pod {args.namespace}/{control.kill_pod(api, args.namespace, args.pod, args.workload)} deleted")
    elif args.command == "add-namespace":
        print(f"namespace {control.add_namespace(api, args.name, args.inject)} created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
