"""Auto-accept thresholds over the API: the proposal from evidence and its
forecast (a read), the explicit apply, and the record of every change."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.roles import Capability
from catalog.models import ThresholdChange
from catalog.selectors import threshold_change_list
from classification.evidence import threshold_proposals
from classification.services.thresholds import thresholds_apply_proposed
from config.api import read_only_slug
from config.errors import InvalidInput


class ThresholdChangeSerializer(serializers.ModelSerializer):
    category = read_only_slug("slug")
    changed_by = read_only_slug("username")

    class Meta:
        model = ThresholdChange
        fields = [
            "id",
            "category",
            "old_threshold",
            "new_threshold",
            "changed_by",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


class ProposalRowSerializer(serializers.Serializer):
    category = serializers.CharField()
    name = serializers.CharField()
    current_threshold = serializers.FloatField()
    proposed_threshold = serializers.FloatField(
        allow_null=True, help_text="null: not enough evidence (keeps its threshold)."
    )
    enough_evidence = serializers.BooleanField()
    reached = serializers.BooleanField(help_text="The target precision is reached.")
    evidence = serializers.IntegerField(help_text="Decided predictions in all.")
    predictions = serializers.IntegerField(help_text="Current predictions of it.")
    auto_accept_share = serializers.FloatField(allow_null=True)
    precision = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    decisions = serializers.IntegerField(help_text="Decisions the forecast rests on.")
    audits = serializers.IntegerField(help_text="Of those, audit samples.")
    note = serializers.CharField()


class ProposalSerializer(serializers.Serializer):
    model_version = serializers.DictField()
    target_precision = serializers.FloatField()
    min_evidence = serializers.IntegerField()
    auto_accept_share = serializers.FloatField(allow_null=True)
    categories = ProposalRowSerializer(many=True)


class ApplyInputSerializer(serializers.Serializer):
    target_precision = serializers.FloatField(min_value=0.5, max_value=0.999)
    categories = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        help_text="Only these categories (default: every one with enough evidence).",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=400)


def _target(request) -> float:
    raw = request.query_params.get("target_precision", "0.97")
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(
            f"target_precision must be a number, not {raw!r}.",
            field="target_precision",
        ) from None


@extend_schema(tags=["thresholds"])
class ThresholdViewSet(viewsets.ReadOnlyModelViewSet):
    """Platform admins: auto-accept thresholds from evidence, and their record."""

    serializer_class = ThresholdChangeSerializer
    capabilities = {
        action: Capability.MODEL_MANAGE
        for action in ("list", "retrieve", "proposal", "apply")
    }

    def get_queryset(self):
        return threshold_change_list()

    @extend_schema(
        operation_id="thresholds_proposal",
        parameters=[
            OpenApiParameter("target_precision", float, description="default 0.97")
        ],
        responses=ProposalSerializer,
        description="Per-category thresholds for the target precision, from the "
        "active version's reviewed and audited predictions, with the forecast. "
        "Changes nothing.",
    )
    @action(detail=False, methods=["get"])
    def proposal(self, request):
        proposal = threshold_proposals(target_precision=_target(request))
        return Response(ProposalSerializer(proposal).data)

    @extend_schema(
        operation_id="thresholds_apply",
        request=ApplyInputSerializer,
        responses=ThresholdChangeSerializer(many=True),
        description="Apply the proposal for the target precision (as "
        "`proposal/` shows it) to the categories with enough evidence; answer "
        "the recorded changes.",
    )
    @action(detail=False, methods=["post"])
    def apply(self, request):
        data = ApplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = thresholds_apply_proposed(
            target_precision=data.validated_data["target_precision"],
            categories=data.validated_data.get("categories"),
            reason=data.validated_data.get("reason", ""),
            user=request.user,
        )
        return Response(ThresholdChangeSerializer(changes, many=True).data)
