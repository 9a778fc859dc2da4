"""Classification over the API: classify on the spot, predictions and their
review, model versions and their roll-out, jobs and statistics."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import request_merchant
from accounts.roles import Capability, user_can
from catalog.api.uploads import rejection_error
from catalog.selectors import catalog_counts, category_labels, category_names
from classification import selectors
from classification.api.filters import (
    DecisionFilter,
    JobFilter,
    ModelVersionFilter,
    PredictionFilter,
)
from classification.api.serializers import (
    ActivateInputSerializer,
    ActivationComparisonSerializer,
    BulkPreviewSerializer,
    BulkReviewInputSerializer,
    BulkReviewResultSerializer,
    ClassifyInputSerializer,
    ClassifyResultSerializer,
    DecisionSerializer,
    JobSerializer,
    ModelVersionSerializer,
    PredictionSerializer,
    ReclassifyInputSerializer,
    ReviewInputSerializer,
    StatsSerializer,
    TrainInputSerializer,
    UndoInputSerializer,
    UndoResultSerializer,
)
from classification.models import Prediction, Review
from classification.rollout import activation_comparison
from classification.services import predictions as prediction_services
from classification.services import reclassification as reclassification_services
from classification.services import reviews as review_services
from classification.services import shadow as shadow_services
from classification.services import versions as version_services
from classification.services.training import jobs as training_jobs
from classification.services.training.data import training_data_root
from classification.services.training.preview import training_preview
from config.api import IDEMPOTENCY_KEY_PARAMETER, idempotent, validated
from imaging.errors import ImageRejected

# --- Classify without storing -------------------------------------------------


class ClassifyView(APIView):
    capabilities = {"post": Capability.CLASSIFY}
    parser_classes = [MultiPartParser]
    throttle_scope = "classify"
    extra_error_codes = (413,)

    @extend_schema(
        tags=["classify"],
        operation_id="classify",
        request={"multipart/form-data": ClassifyInputSerializer},
        responses=ClassifyResultSerializer,
        description="Classify one uploaded photo with the active model version "
        "right away and store nothing: the top-5 categories with probabilities "
        "and the model version. Rejected files answer as uploads do (413, 415, "
        "400). Limited to VITRINE_API_RATE_CLASSIFY per user.",
    )
    def post(self, request):
        data = validated(ClassifyInputSerializer, request)
        upload = data["file"]
        try:
            result = prediction_services.image_classify_unsaved(upload=upload)
        except ImageRejected as error:
            # Answered as an upload of that one file is.
            raise rejection_error([(upload.name, error)]) from error
        names = category_names()
        return Response(
            ClassifyResultSerializer(
                {
                    "top_k": [
                        {"category": slug, "name": names.get(slug), "probability": p}
                        for slug, p in result.top_k
                    ],
                    "model_version": {
                        "id": result.version.pk,
                        "name": result.version.name,
                    },
                    "latency_ms": round(result.latency_ms, 2),
                }
            ).data
        )


# --- Predictions and reviews --------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description="Predictions of the merchant's images (platform admins and "
        "reviewers: all), newest first, each with its latest review (who "
        "reviewed and the note only for reviewers and platform admins)."
    ),
    retrieve=extend_schema(description="One prediction with its latest review."),
)
@extend_schema(tags=["predictions"])
class PredictionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PredictionSerializer
    capabilities = {
        "list": Capability.PREDICTION_VIEW,
        "retrieve": Capability.PREDICTION_VIEW,
        "review": Capability.PREDICTION_REVIEW,
        "review_bulk": Capability.PREDICTION_REVIEW,
        "review_bulk_preview": Capability.PREDICTION_REVIEW,
    }
    filterset_class = PredictionFilter
    ordering_fields = ["created_at", "confidence", "margin"]
    extra_error_codes = (409,)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Prediction.objects.none()
        return selectors.prediction_list_with_reviews(
            merchant=request_merchant(self.request, self)
        ).order_by("-created_at", "-id")

    def get_object(self):
        return selectors.prediction_get(
            merchant=request_merchant(self.request, self), pk=self.kwargs["pk"]
        )

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "category_names": self._names(),
            "review_details": user_can(
                self.request.user, Capability.REVIEW_DETAILS_VIEW
            ),
        }

    def _names(self) -> dict[str, str]:
        if not hasattr(self, "_category_names"):
            self._category_names = category_names()
        return self._category_names

    @extend_schema(
        operation_id="predictions_review",
        request=ReviewInputSerializer,
        responses=PredictionSerializer,
        description="Reviewers: accept or correct the prediction's label, mark "
        "the photo unusable (with a reason), or skip it. The decision labels the "
        "photo; the product's category follows its photos' vote unless a person "
        "chose it, and changes to the label with `set_product_category`. The "
        "same decision sent again answers as the first time; a different "
        "decision after someone else's answers 409. `reviews/{id}/undo/` undoes.",
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        prediction = selectors.prediction_get(merchant=None, pk=pk)
        data = validated(ReviewInputSerializer, request)
        review_services.prediction_review(
            prediction_id=prediction.pk,
            reviewer=request.user,
            decision=data["decision"],
            category=data.get("category"),
            note=data["note"],
            unusable_reason=data["unusable_reason"],
            set_product_category=data["set_product_category"],
        )
        prediction = selectors.prediction_get(merchant=None, pk=pk)
        return Response(
            PredictionSerializer(prediction, context=self.get_serializer_context()).data
        )

    @extend_schema(
        operation_id="predictions_review_bulk",
        request=BulkReviewInputSerializer,
        responses=BulkReviewResultSerializer,
        description="Reviewers: one decision for many predictions (at most 500). "
        "Those that cannot take it are listed in `conflicts` and left alone.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="review",
        url_name="review-bulk",
    )
    def review_bulk(self, request):
        data = validated(BulkReviewInputSerializer, request)
        result = review_services.predictions_review_bulk(
            reviewer=request.user, **_bulk_arguments(data)
        )
        return Response(
            BulkReviewResultSerializer(
                {
                    "reviewed": result.reviewed,
                    "conflicts": result.conflicts,
                    "batch": result.batch,
                }
            ).data
        )

    @extend_schema(
        operation_id="predictions_review_bulk_preview",
        request=BulkReviewInputSerializer,
        responses=BulkPreviewSerializer,
        description="Reviewers: what `predictions/review/` would change with the "
        "same body (how many photos, how many below their threshold, which "
        "products change category), changing nothing.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="review/preview",
        url_name="review-bulk-preview",
    )
    def review_bulk_preview(self, request):
        data = validated(BulkReviewInputSerializer, request)
        preview = review_services.predictions_review_bulk_preview(
            reviewer=request.user, **_bulk_arguments(data)
        )
        return Response(
            BulkPreviewSerializer(
                {
                    "photos": preview.photos,
                    "low_confidence": preview.low_confidence,
                    "category_changes": [
                        {
                            "product": pk,
                            "name": name,
                            "category_before": before,
                            "category_after": after,
                        }
                        for pk, name, before, after in preview.category_changes
                    ],
                    "conflicts": preview.conflicts,
                }
            ).data
        )


def _bulk_arguments(data: dict) -> dict:
    return {
        "prediction_ids": data["prediction_ids"],
        "decision": data["decision"],
        "category": data.get("category"),
        "unusable_reason": data["unusable_reason"],
        "set_product_category": data["set_product_category"],
    }


@extend_schema_view(
    list=extend_schema(
        description="Reviewers: your decisions, newest first, undone ones "
        "included (`undone_at`); filters `decision`, `undone`, `batch`, `product`."
    ),
    retrieve=extend_schema(description="One of your decisions."),
)
@extend_schema(tags=["predictions"])
class DecisionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DecisionSerializer
    capabilities = {
        "list": Capability.PREDICTION_REVIEW,
        "retrieve": Capability.PREDICTION_REVIEW,
        "undo": Capability.REVIEW_UNDO,
        "undo_batch": Capability.REVIEW_UNDO,
    }
    filterset_class = DecisionFilter
    extra_error_codes = (409,)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Review.objects.none()
        return selectors.review_history(reviewer=self.request.user)

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "category_slugs": {pk: slug for pk, (slug, _) in category_labels().items()},
        }

    def _undo(self, request, **which) -> Response:
        result = review_services.reviews_undo(
            user=request.user,
            others_too=user_can(request.user, Capability.REVIEW_UNDO_ANY),
            **which,
        )
        return Response(
            UndoResultSerializer(
                {
                    "undone": [r.pk for r in result.undone],
                    "conflicts": result.conflicts,
                }
            ).data
        )

    @extend_schema(
        operation_id="reviews_undo",
        request=None,
        responses=UndoResultSerializer,
        description="Undo the decision: the photo, its prediction and the "
        "product's category go back to what they were before it. 409 when the "
        "product changed since or it was undone already. A decision of a bulk "
        "action is undone with the batch's others on the same product. Platform "
        "admins may undo anyone's.",
    )
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        return self._undo(request, review_id=int(pk))

    @extend_schema(
        operation_id="reviews_undo_batch",
        request=UndoInputSerializer,
        responses=UndoResultSerializer,
        description="Undo a bulk decision; products changed since keep theirs "
        "(listed in `conflicts`).",
    )
    @action(detail=False, methods=["post"], url_path="undo", url_name="undo-batch")
    def undo_batch(self, request):
        data = validated(UndoInputSerializer, request)
        return self._undo(request, batch=data["batch"])


# --- Model versions and jobs --------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description="Platform admins: model versions with their metrics."
    ),
    retrieve=extend_schema(description="Platform admins: one model version."),
)
@extend_schema(tags=["models"])
class ModelVersionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ModelVersionSerializer
    capabilities = {
        action: Capability.MODEL_MANAGE
        for action in (
            "list",
            "retrieve",
            "train",
            "train_preview",
            "activate",
            "comparison",
            "shadow",
            "rollback",
            "reclassify",
        )
    }
    filterset_class = ModelVersionFilter
    ordering_fields = ["created_at", "activated_at", "name"]
    extra_error_codes = (409,)

    def get_queryset(self):
        return selectors.model_version_list()

    def get_object(self):
        return selectors.model_version_get(pk=self.kwargs["pk"])

    @extend_schema(
        operation_id="models_train",
        request=TrainInputSerializer,
        responses={202: JobSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        description="Start a training job; follow it at `jobs/{id}/`.",
    )
    @action(detail=False, methods=["post"])
    def train(self, request):
        return idempotent(request, lambda: self._train(request))

    def _train(self, request):
        data = validated(TrainInputSerializer, request)
        job = training_jobs.training_job_start(params=data["params"], user=request.user)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        operation_id="models_train_preview",
        request=TrainInputSerializer,
        responses={200: OpenApiTypes.OBJECT},
        description="What a training with these params would read, starting "
        "nothing: `images`, `categories` (label, slug, name, exists, images), "
        "`unknown_labels`, `opened`, `unreadable` ([file, reason], the first 20) "
        "and `unreadable_count`, `skipped` and `skipped_count`, and `problems` "
        "that would stop the training.",
    )
    @action(detail=False, methods=["post"], url_path="train/preview")
    def train_preview(self, request):
        data = validated(TrainInputSerializer, request)
        preview = training_preview(
            params=data["params"], data_root=training_data_root()
        )
        return Response(preview.as_dict())

    @extend_schema(
        operation_id="models_activate",
        request=ActivateInputSerializer,
        responses=ModelVersionSerializer,
        description="Make this version the active one; workers switch on their "
        "next task. When its comparison with the active version warns (see "
        "`comparison/`: a category products use that it cannot predict, a lower "
        "accuracy, little agreement in shadow), answer 409 "
        "`confirmation_required` with the comparison in `details` unless the "
        'body says `{"confirm": true}`.',
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        data = validated(ActivateInputSerializer, request)
        version = version_services.model_version_activate_confirmed(
            version=self.get_object(), confirm=data["confirm"], user=request.user
        )
        return Response(ModelVersionSerializer(version).data)

    @extend_schema(
        operation_id="models_comparison",
        responses=ActivationComparisonSerializer,
        description="What activating this version would change, beside the "
        "active version: test metrics side by side, categories in use it cannot "
        "predict, the thresholds it would use and the share of photos that "
        "would go to review, its shadow results, and warnings.",
    )
    @action(detail=True, methods=["get"])
    def comparison(self, request, pk=None):
        comparison = activation_comparison(version=self.get_object())
        return Response(ActivationComparisonSerializer(comparison).data)

    @extend_schema(
        operation_id="models_shadow_start",
        methods=["POST"],
        request=None,
        responses=ModelVersionSerializer,
        description="Run this version in shadow on new uploads (a second "
        "prediction per photo that never acts; another shadow version stops). "
        "409 for the active version.",
    )
    @extend_schema(
        operation_id="models_shadow_stop",
        methods=["DELETE"],
        request=None,
        responses=ModelVersionSerializer,
        description="Stop this version's shadow run; its shadow predictions stay.",
    )
    @action(detail=True, methods=["post", "delete"])
    def shadow(self, request, pk=None):
        version = self.get_object()
        if request.method == "DELETE":
            version = shadow_services.model_version_shadow_stop(version=version)
        else:
            version = shadow_services.model_version_shadow_start(version=version)
        return Response(ModelVersionSerializer(version).data)

    @extend_schema(
        operation_id="models_rollback",
        request=None,
        responses=ModelVersionSerializer,
        description="Activate again the version that was active before the "
        "current one. 409 when there is none.",
    )
    @action(detail=False, methods=["post"])
    def rollback(self, request):
        version = version_services.model_version_rollback(user=request.user)
        return Response(ModelVersionSerializer(version).data)

    @extend_schema(
        operation_id="models_reclassify",
        request=ReclassifyInputSerializer,
        responses={202: JobSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        description="Start a job that classifies the images again with the "
        "active version; follow it at `jobs/{id}/`.",
    )
    @action(detail=False, methods=["post"])
    def reclassify(self, request):
        return idempotent(request, lambda: self._reclassify(request))

    def _reclassify(self, request):
        data = validated(ReclassifyInputSerializer, request)
        job = reclassification_services.reclassify_job_start(
            only_unseen=data["only_unseen"], user=request.user
        )
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        description="Platform admins: training and re-classification jobs."
    ),
    retrieve=extend_schema(description="Platform admins: a job's status and progress."),
)
@extend_schema(tags=["jobs"])
class JobViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = JobSerializer
    capabilities = {
        "list": Capability.MODEL_MANAGE,
        "retrieve": Capability.MODEL_MANAGE,
    }
    filterset_class = JobFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.job_list()

    def get_object(self):
        return selectors.job_get(pk=self.kwargs["pk"])


# --- Statistics ---------------------------------------------------------------


class StatsView(APIView):
    capabilities = {"get": Capability.STATS_VIEW}

    @extend_schema(
        tags=["stats"],
        operation_id="stats",
        responses=StatsSerializer,
        description="Counts per category and status, the review backlog and each "
        "model version's live precision, for the merchant's data (platform "
        "admins: all).",
    )
    def get(self, request):
        merchant = request_merchant(request, self)
        counts = catalog_counts(merchant=merchant)
        stats = selectors.classification_stats(merchant=merchant)
        # JSON keys are strings: "no category" is the empty key.
        counts["products_per_category"] = _blank_none(counts["products_per_category"])
        stats["predictions_per_category"] = _blank_none(
            stats["predictions_per_category"]
        )
        return Response(StatsSerializer({**counts, **stats}).data)


def _blank_none(mapping: dict) -> dict:
    return {("" if key is None else key): value for key, value in mapping.items()}
