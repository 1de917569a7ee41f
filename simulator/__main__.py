"""Command line of the simulator: ``python -m simulator serve|scale|kill-pod|add-namespace|apply``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from simulator import Simulator, control

DEFAULT_KUBECONFIG = "var/simulator.kubeconfig"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m simulator``."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description="Bookinfo mesh simulator")
    parser.add_argument("--kubeconfig", default=DEFAULT_KUBECONFIG, help="kubeconfig to write (serve) or use")
    parser.add_argument("--context", default=None, help="kubeconfig context (default: current)")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the simulated API server until SIGINT/SIGTERM")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=16443)
    serve.add_argument("--kubeconfig", dest="serve_kubeconfig", default=None)
    serve.add_argument("--namespace", default="bookinfo", help="namespace of the Bookinfo app")
    serve.add_argument("--seed", type=int, default=1)
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
    apply = commands.add_parser("apply", help="create or replace the objects of a YAML file")
    apply.add_argument("file")
    apply.add_argument("--namespace", default="default")
    return parser


def serve(args: argparse.Namespace) -> int:
    """Run the simulator in the foreground until interrupted."""
    sim = Simulator(namespace=args.namespace, seed=args.seed)
    if args.synthetic:
        from simulator.synthetic import populate_synthetic

        namespaces, services, pods = (int(part) for part in args.synthetic.split(","))
        populate_synthetic(sim.store, namespaces, services, pods, seed=args.seed)
    sim.start(host=args.host, port=args.port)
    path = sim.write_kubeconfig(args.serve_kubeconfig or args.kubeconfig)
    print(f"simulator serving Kubernetes API at {sim.url} (kubeconfig: {path})", flush=True)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    api = control.api_client(args.kubeconfig, args.context)
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
    elif args.command == "apply":
        for line in control.apply_manifests(api, args.file, default_namespace=args.namespace):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
