"""Filters of the shared catalog (django-filter): style, mood, tempo range, key, mode."""

import django_filters

from accounts import vocabulary
from generation.models import Track


class CatalogFilter(django_filters.FilterSet):
    style = django_filters.MultipleChoiceFilter(choices=[(s, s) for s in vocabulary.STYLES],
                                                help_text="repeat for several")
    mood = django_filters.MultipleChoiceFilter(field_name="provenance__record__request__mood",
                                               choices=[(m, m) for m in vocabulary.MOODS],
                                               help_text="the mood it was composed for; repeat for several")
    tempo_min = django_filters.NumberFilter(field_name="measured__tempo__gte", method="filter_number",
                                            help_text="BPM as heard")
    tempo_max = django_filters.NumberFilter(field_name="measured__tempo__lte", method="filter_number")
    key = django_filters.ChoiceFilter(field_name="measured__key_tonic", choices=[(k, str(k)) for k in range(12)],
                                      method="filter_key", help_text="pitch class of the tonic, C=0")
    mode = django_filters.ChoiceFilter(field_name="measured__mode", choices=[(m, m) for m in vocabulary.KEY_MODES])

    class Meta:
        model = Track
        fields = ("style", "mood", "tempo_min", "tempo_max", "key", "mode")

    def is_valid(self):
        """A parameter that is sent must say something: ``?tempo_min=`` is a 400 naming tempo_min,
        not "no filter" (django-filter would ignore it)."""
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and any(not value.strip() for value in self.data.getlist(name)):
                self.form.add_error(name, "must not be empty; leave the parameter out to not filter by it")
                valid = False
        return valid

    def filter_number(self, queryset, name, value):
        return queryset.filter(**{name: float(value)})  # JSON compares floats, not Decimals

    def filter_key(self, queryset, name, value):
        return queryset.filter(**{name: int(value)})
