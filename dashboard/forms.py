from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from accounts.selectors import merchant_list
from dashboard.selectors import Period

PRESETS = [("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days")]
DEFAULT_PRESET = "30"


class DashboardFilterForm(forms.Form):
    """The dashboard's filters: a period (a preset or custom dates) and a merchant.

    Read from the query string; ``cleaned_data["range"]`` (a Period) and
    ``cleaned_data["merchant"]`` are what the selectors take.
    """

    period = forms.ChoiceField(
        label="Period",
        choices=[*PRESETS, ("custom", "Custom dates")],
        required=False,
    )
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    merchant = forms.ModelChoiceField(
        label="Merchant",
        queryset=None,
        required=False,
        empty_label="All merchants",
    )

    def __init__(self, data=None, **kwargs):
        if data is not None and not data.get("period"):
            # The default period shows as chosen, not as the first option.
            data = data.copy()
            data["period"] = DEFAULT_PRESET
        super().__init__(data, **kwargs)
        self.fields["merchant"].queryset = merchant_list()

    def clean(self):
        cleaned = super().clean()
        preset = cleaned.get("period") or DEFAULT_PRESET
        cleaned["period"] = preset
        if preset != "custom":
            cleaned["range"] = Period.last(int(preset))
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None or end is None:
            if not self.has_error("start") and not self.has_error("end"):
                raise forms.ValidationError(
                    "Custom dates need both a start and an end."
                )
            return cleaned
        if start > timezone.localdate():
            self.add_error("start", "The period starts in the future.")
            return cleaned
        try:
            cleaned["range"] = Period(start=start, end=end)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        return cleaned

    def period_range(self) -> Period:
        """The chosen period, or the default one when the form is not valid."""
        if self.is_valid():
            return self.cleaned_data["range"]
        return Period.last(int(DEFAULT_PRESET))

    def chosen_merchant(self):
        return self.cleaned_data.get("merchant") if self.is_valid() else None

    def query_string(self) -> str:
        """The valid filters as a query string (for the CSV links)."""
        if not self.is_valid():
            return ""
        period = self.cleaned_data["range"]
        params = {"period": self.cleaned_data["period"]}
        if params["period"] == "custom":
            params |= {"start": period.start.isoformat(), "end": period.end.isoformat()}
        if self.cleaned_data.get("merchant"):
            params["merchant"] = self.cleaned_data["merchant"].pk
        return urlencode(params)
