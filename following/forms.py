from django import forms

from .models import Frequency


class SubscribeForm(forms.Form):
    """The sign-up form of a topic's follow page (the topic is in the address)."""

    email = forms.EmailField(label="Email address", max_length=254)
    frequency = forms.ChoiceField(
        label="How often", choices=Frequency.choices, initial=Frequency.DAILY, widget=forms.RadioSelect
    )
