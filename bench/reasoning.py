"""Time the evidence and reasoning stages on the full real graph, and measure why HermiT gets only
the DL part while OWL 2 RL rules (SPARQL updates on pyoxigraph) derive the rest.

Run: .venv/bin/python bench/reasoning.py [--hermit-cap 60] [--slices 100,200,400,800,1600]
     [--repeat 1] [--slice-release V3] [--skip-owlrl] [--json reasoning.json]
The optional owlrl comparison needs `pip install owlrl` (or `pip install -e '.[bench]'`).
Prints one line per measured step, then a summary; compare ratios measured in the same run, as
the machine is shared. HermiT on the findings slices and owlrl run in a child process (a process
group of their own, so HermiT's Java goes too) killed when --hermit-cap seconds have passed.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TypeVar

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from atrocity_kg.config import Settings
from atrocity_kg.graph import evidence, graphs, reasoning
from atrocity_kg.model.namespaces import AKG

T = TypeVar("T")
LABEL = 54


@dataclass
class Step:
    """One figure: seconds is None when the cap stopped the step or it failed (see note)."""

    step: str
    seconds: float | None
    triples_in: int | None = None
    triples_out: int | None = None
    """What a step made: the graph loaded, the assessments, the inferred triples."""
    stopped: bool = False
    estimated: bool = False
    note: str = ""


STEPS: list[Step] = []


def record(step: Step, detail: str = "", cap: float = 0.0) -> Step:
    """Keep the figure and print its line."""
    STEPS.append(step)
    if step.seconds is not None:
        shown = f"{'~' if step.estimated else ' '}{step.seconds:7.2f} s"
    elif step.stopped:
        shown = f"> {cap:g} s, stopped"
    else:
        shown = f"{'-':>8}  "
    print(f"{step.step:<{LABEL}} {shown}  {detail}".rstrip())
    return step


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """The result of work and the seconds it took."""
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def _child(work: Callable[[], int], sender: Connection, scratch: str) -> None:
    os.setpgrp()
    tempfile.tempdir = scratch
    try:
        start = time.perf_counter()
        count = work()
        sender.send(("ok", time.perf_counter() - start, count))
    except BaseException as error:
        sender.send(("error", 0.0, f"{type(error).__name__}: {error}"[:200]))
    finally:
        sender.close()


def capped(label: str, work: Callable[[], int], triples: int, cap: float) -> Step:
    """Run work (returning how many triples it inferred) in a forked child that leads a process
    group of its own, timed in the child; kill the group (Java included) after cap seconds."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    with tempfile.TemporaryDirectory(prefix="bench-reasoning-") as scratch:
        child = context.Process(target=_child, args=(work, sender, scratch))
        child.start()
        sender.close()
        try:
            if not receiver.poll(cap):
                try:
                    os.killpg(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
                except ProcessLookupError:
                    child.kill()
                child.join()
                return Step(label, None, triples, stopped=True)
            try:
                status, seconds, result = receiver.recv()
            except EOFError:
                status, seconds, result = "error", 0.0, f"child exited with {child.exitcode}"
            child.join()
        finally:
            receiver.close()
    if status != "ok":
        return Step(label, None, triples, note=str(result))
    return Step(label, float(seconds), triples, int(result))


def findings_of(release: Graph) -> list[URIRef]:
    found = {f for f in release.subjects(RDF.type, AKG.FactorFinding) if isinstance(f, URIRef)}
    return sorted(found)


def with_findings(base: Graph, releases: list[tuple[Graph, list[URIRef]]]) -> Graph:
    """A copy of base plus every triple each release states about each of its findings given."""
    graph = union([base])
    for release, findings in releases:
        for finding in findings:
            graph.addN((finding, p, o, graph) for p, o in release.predicate_objects(finding))
    return graph


def reasoned(step: Step, new: str = "inferred") -> str:
    out = f", {step.triples_out:,} {new}" if step.triples_out is not None else ""
    return f"{step.triples_in:,} triples in{out} {step.note}".rstrip()


def union(graphs: list[Graph]) -> Graph:
    graph = Graph()
    for part in graphs:
        graph.addN((s, p, o, graph) for s, p, o in part)
    return graph


def hermit_growth(
    dl: Graph, code: str, release: Graph, sizes: list[int], repeat: int, cap: float
) -> list[Step]:
    """HermiT on the DL input plus the first n findings of one release (all their triples), for
    growing n, the fastest of `repeat` runs each, until a run hits the cap."""
    findings = findings_of(release)
    steps = []
    for size in sizes:
        chosen = findings[:size]
        graph = with_findings(dl, [(release, chosen)])
        first = "all" if len(chosen) == len(findings) else "first"
        label = f"HermiT, DL input + {first} {len(chosen):,} {code} findings"
        tries: list[Step] = []
        for _ in range(repeat):
            tries.append(
                capped(label, lambda g=graph: len(reasoning.run_hermit(g)), len(graph), cap)  # type: ignore[misc]
            )
            if tries[-1].seconds is None:
                break
        finished = [t for t in tries if t.seconds is not None]
        step = min(finished, key=lambda t: t.seconds or 0.0) if finished else tries[-1]
        if len(finished) > 1:
            step.note = "fastest of " + ", ".join(f"{t.seconds:.2f}" for t in finished) + " s"
        steps.append(record(step, reasoned(step), cap))
        if step.seconds is None or len(chosen) < size:
            break
    return steps


def power_law(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    """Least-squares fit of seconds = a * triples ** k on log-log axes: (a, k)."""
    if len({n for n, _ in points}) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(s) for _, s in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return math.exp(mean_y - slope * mean_x), slope


def extrapolate(label: str, runs: list[Step], target: int, rules: Step, cap: float) -> Step:
    """HermiT's time on target triples by the power law through the finished runs, and never
    less than the largest finished run's time (a part of the input) nor, once a part of the input
    hit it, the cap. Printed against the rules' time as a ratio. The fit runs through inputs where
    HermiT's fixed start-up cost (Java, owlready2) still weighs, so it is a low estimate."""
    finished = [s for s in runs if s.seconds is not None and s.triples_in]
    sizes = [s.triples_in or 0 for s in finished]
    fit = power_law([(s.triples_in or 0, s.seconds or 0.0) for s in finished])
    hit = min((s.triples_in or 0 for s in runs if s.stopped), default=None)
    floors = [(s.seconds or 0.0, f"{s.seconds:.2f} s at {s.triples_in:,}") for s in finished]
    if hit is not None and hit <= target:
        floors.append((cap, f"{cap:g} s cap hit at {hit:,}"))
    if rules.seconds is None or (fit is None and not floors):
        note = "nothing finished to extrapolate from"
        return record(Step(label, None, target, note=note), f"{target:,} triples: {note}")
    floor, floor_note = max(floors, key=lambda f: f[0])
    if fit is None:
        estimate, how = floor, f"too few finished runs to fit; floor {floor_note}"
    else:
        scale, exponent = fit
        estimate = max(scale * target**exponent, floor)
        how = f"fit seconds ~ triples^{exponent:.2f} over {len(finished)} runs; floor {floor_note}"
        if max(sizes) < 2 * min(sizes):
            how += "; inputs too alike for a fit, give wider --slices"
    note = f"= {estimate / rules.seconds:.1f} x the rules' {rules.seconds:.2f} s ({how})"
    step = Step(label, estimate, target, estimated=True, note=note)
    return record(step, f"{target:,} triples {note}")


def owlrl_closure(everything: Graph, cap: float) -> Step:
    label = "owlrl OWL 2 RL closure, everything"
    try:
        import owlrl
    except ImportError:
        note = "owlrl is not installed: pip install owlrl (or pip install -e '.[bench]')"
        return record(Step(label, None, len(everything), note=note), note)

    def expand() -> int:
        before = len(everything)
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(everything)
        return len(everything) - before

    step = capped(label, expand, len(everything), cap)
    return record(step, reasoned(step, "new, axiomatic ones included"), cap)


def summary(rows: list[tuple[str, Step]], cap: float) -> None:
    print()
    print(f"{'summary':<{LABEL - 16}} {'triples in':>12} {'seconds':>10} {'triples out':>12}")
    for name, step in rows:
        if step.seconds is not None:
            seconds = f"{'~' if step.estimated else ''}{step.seconds:.2f}"
        else:
            seconds = f"> {cap:g}" if step.stopped else "-"
        triples_in = f"{step.triples_in:,}" if step.triples_in is not None else "-"
        out = f"{step.triples_out:,}" if step.triples_out is not None else "-"
        print(f"  {name:<{LABEL - 18}} {triples_in:>12} {seconds:>10} {out:>12}")


def sizes(text: str) -> list[int]:
    try:
        numbers = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        numbers = []
    if not numbers or numbers[0] < 1:
        raise argparse.ArgumentTypeError("give positive finding counts, e.g. 50,100,200")
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--hermit-cap", type=float, default=60.0, help="seconds per capped run (HermiT, owlrl)"
    )
    parser.add_argument(
        "--slices",
        type=sizes,
        default=[100, 200, 400, 800, 1600],
        help="finding counts to add (more than the release has: all of them)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="HermiT runs per slice, the fastest kept"
    )
    parser.add_argument("--slice-release", default="V3", help="whose findings (in IRI order)")
    parser.add_argument("--skip-owlrl", action="store_true", help="leave out the owlrl run")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()
    cap: float = args.hermit_cap
    clock = time.perf_counter()
    settings = Settings()

    ontology, seconds = timed(lambda: graphs.load_ontology(settings))
    record(Step("load ontology", seconds, None, len(ontology)), f"{len(ontology):,} triples")
    curated, seconds = timed(lambda: graphs.load_curated(settings))
    record(Step("load curated data", seconds, None, len(curated)), f"{len(curated):,} triples")
    releases, seconds = timed(lambda: graphs.load_releases(settings))
    sizes_ = ", ".join(f"{code} {len(graph):,}" for code, graph in releases.items())
    loaded = sum(map(len, releases.values()))
    record(Step("load releases", seconds, None, loaded), f"{sizes_} triples")
    code = args.slice_release.upper()
    if code not in releases:
        parser.error(f"no release {code} in {settings.ushmm_dir}")

    assessed: dict[str, Graph] = {}
    for name, release in releases.items():
        graph, seconds = timed(lambda c=name, r=release: evidence.assess_release(c, r))  # type: ignore[misc]
        assessed[name] = graph
        count = len(set(graph.subjects(RDF.type, AKG.RecomputedAssessment)))
        record(
            Step(f"evidence.assess_release {name}", seconds, len(release), len(graph)),
            f"{count:,} assessments, {len(graph):,} triples",
        )

    dl, seconds = timed(lambda: reasoning.dl_input(ontology, curated, releases))
    record(Step("reasoning.dl_input", seconds, None, len(dl)), f"{len(dl):,} triples")
    hermit, seconds = timed(lambda: reasoning.run_hermit(dl))
    hermit_dl = Step("reasoning.run_hermit, DL input", seconds, len(dl), len(hermit))
    record(hermit_dl, reasoned(hermit_dl))
    asserted = [curated, *releases.values(), *assessed.values()]
    everything = union([ontology, *asserted])
    inferred, seconds = timed(lambda: reasoning.materialize(ontology, asserted, seed=hermit))
    rules = Step("reasoning.materialize, everything", seconds, len(everything), len(inferred))
    record(rules, reasoned(rules) + " (HermiT's output as seed)")
    justified, seconds = timed(lambda: reasoning.justify(inferred, curated, releases))
    justify = Step("reasoning.justify", seconds, len(inferred), len(justified))
    record(justify, f"{len(justified):,} triples")

    growth = hermit_growth(dl, code, releases[code], args.slices, max(1, args.repeat), cap)
    every = [(release, findings_of(release)) for release in releases.values()]
    all_findings = with_findings(dl, every)
    findings = sum(len(chosen) for _, chosen in every)
    # The fit goes through the slice runs (each the fastest of --repeat) when two finished.
    runs = growth if sum(s.seconds is not None for s in growth) >= 2 else [hermit_dl, *growth]
    whole = [
        extrapolate(
            f"HermiT extrapolated, DL + all {findings:,} findings",
            runs,
            len(all_findings),
            rules,
            cap,
        ),
        extrapolate("HermiT extrapolated, everything", runs, len(everything), rules, cap),
    ]
    owlrl_step = None if args.skip_owlrl else owlrl_closure(everything, cap)
    total = record(Step("whole benchmark", time.perf_counter() - clock))

    evidence_steps = [s for s in STEPS if s.step.startswith("evidence.")]
    rows = [
        (
            "evidence, all releases",
            Step(
                "evidence",
                sum(s.seconds or 0.0 for s in evidence_steps),
                sum(s.triples_in or 0 for s in evidence_steps),
                sum(s.triples_out or 0 for s in evidence_steps),
            ),
        ),
        ("HermiT, DL input", hermit_dl),
        ("rules, everything", rules),
        ("justifications", justify),
    ]
    rows += [(s.step.replace(" input + ", " + "), s) for s in growth[-2:]]
    rows += [("HermiT, all findings (extrapolated)", whole[0])]
    rows += [("HermiT, everything (extrapolated)", whole[1])]
    if owlrl_step is not None:
        rows.append(("owlrl, everything", owlrl_step))
    summary(rows, cap)
    if args.json is not None:
        figures = {
            "hermit_cap": cap,
            "slice_release": code,
            "steps": [asdict(step) for step in STEPS],
            "hermit_growth": [asdict(step) for step in (hermit_dl, *growth)],
            "extrapolations": [asdict(step) for step in whole],
            "owlrl": asdict(owlrl_step) if owlrl_step is not None else None,
            "total_seconds": total.seconds,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
