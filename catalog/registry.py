"""The kinds of entry the catalog lists, and the models behind them.

Studies and articles sit above the catalog and join it from their
``AppConfig.ready()`` (``register(Study, kind=EntryKind.STUDY)``), so the
catalog knows their models without importing them. Registering also connects
the receivers that keep the listing index in step (catalog.signals).

A registered model has ``tags`` (a TaggableManager with its own through
model) and the fields the listing index copies (catalog.indexing.entry_fields).
"""

_models = {}  # kind → model
_type_labels = {}  # a type's value ("rct") → the label listings show ("RCT")
_type_choices = []  # (value, label) as filters offer them, in the kind's order


def register(model, *, kind, type_labels=None, type_choices=None):
    """``type_labels``: {type value: the label its listing rows carry}, for a
    kind that has types (studies); ``type_choices``: the (value, label)
    pairs filters offer, every type named."""
    from . import signals

    _models[str(kind)] = model
    _type_labels.update(type_labels or {})
    _type_choices.extend(type_choices or [])
    signals.connect(model)


def type_choices():
    return list(_type_choices)


def type_labels():
    """{type value: listing label} of every registered kind."""
    return dict(_type_labels)


def models():
    """The registered entry models, in the order they registered."""
    return list(_models.values())


def through_models():
    return [model.tags.through for model in _models.values()]


def kind_of(model):
    """The listing kind ("study", "article") of an entry model or instance."""
    model = model if isinstance(model, type) else type(model)
    for kind, registered in _models.items():
        if model is registered or issubclass(model, registered):
            return kind
    raise LookupError(f"{model.__name__} is not a registered kind of entry.")


def model_for(kind):
    return _models[str(kind)]
