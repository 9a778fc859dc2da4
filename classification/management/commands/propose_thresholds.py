"""Propose per-category auto-accept thresholds from evidence; apply on --apply."""

import json

from django.core.management.base import BaseCommand, CommandError

from classification.evidence import threshold_proposals
from classification.services.thresholds import thresholds_apply_proposed
from config.errors import VitrineError


def _percent(value) -> str:
    return "–" if value is None else f"{value:.1%}"


class Command(BaseCommand):
    help = (
        "Propose per-category auto-accept thresholds for a target precision from "
        "the active version's reviewed and audited predictions, with the forecast; "
        "change nothing unless --apply."
    )

    def add_arguments(self, parser):
        parser.add_argument("--target-precision", type=float, default=0.97)
        parser.add_argument(
            "--min-evidence",
            type=int,
            default=None,
            help="decisions a proposal must rest on "
            "(default VITRINE_THRESHOLD_MIN_EVIDENCE)",
        )
        parser.add_argument(
            "--apply",
            action="store_true",
            help="set the proposed thresholds of the categories with enough evidence",
        )
        parser.add_argument("--reason", default="", help="why, for the record")
        parser.add_argument(
            "--json", action="store_true", help="end with a JSON line of it all"
        )

    def handle(self, *args, **options):
        try:
            proposal = threshold_proposals(
                target_precision=options["target_precision"],
                min_evidence=options["min_evidence"],
            )
            applied = []
            if options["apply"]:
                applied = thresholds_apply_proposed(
                    target_precision=options["target_precision"],
                    min_evidence=options["min_evidence"],
                    reason=options["reason"] or "manage.py propose_thresholds --apply",
                )
        except VitrineError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{proposal['model_version']['name']}: thresholds for "
            f"{proposal['target_precision']:.1%} precision "
            f"(at least {proposal['min_evidence']} decisions each)"
        )
        self.stdout.write(
            f"{'category':<24} {'now':>6} {'proposed':>8} {'auto':>7} "
            f"{'precision':>9} {'95 % interval':>15} {'decisions':>9}"
        )
        for row in proposal["categories"]:
            proposed = row["proposed_threshold"]
            interval = (
                f"{_percent(row['low'])}–{_percent(row['high'])}"
                if row["low"] is not None
                else ""
            )
            self.stdout.write(
                f"{row['category']:<24} {row['current_threshold']:>6.3f} "
                f"{'–' if proposed is None else f'{proposed:.3f}':>8} "
                f"{_percent(row['auto_accept_share']):>7} "
                f"{_percent(row['precision']):>9} {interval:>15} "
                f"{row['decisions']:>9}  {row['note']}"
            )
        self.stdout.write(
            f"share auto-accepted at these thresholds: "
            f"{_percent(proposal['auto_accept_share'])}"
        )
        if options["apply"]:
            self.stdout.write(f"applied {len(applied)} threshold changes")
        else:
            self.stdout.write("nothing changed; run again with --apply to apply")
        if options["json"]:
            proposal["applied"] = [
                {
                    "category": change.category.slug,
                    "old": change.old_threshold,
                    "new": change.new_threshold,
                }
                for change in applied
            ]
            self.stdout.write(json.dumps(proposal))
