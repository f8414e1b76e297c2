"""scikit-learn's estimator conventions without depending on scikit-learn: parameters are the
keyword-only arguments of __init__, read by get_params and changed by set_params."""

from __future__ import annotations

import inspect

from .errors import LinclassError


class Estimator:
    """Base for estimators whose __init__ only stores its keyword-only arguments as attributes."""

    _estimator_type = "classifier"  # scikit-learn < 1.6 reads this; newer ones call __sklearn_tags__

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p.name for p in inspect.signature(cls.__init__).parameters.values() if p.kind is p.KEYWORD_ONLY]

    def get_params(self, deep: bool = True) -> dict:
        """The keyword arguments of __init__ and their current values."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set __init__ keyword arguments (checked by the next fit); returns self."""
        for name, value in params.items():
            if name not in self._param_names():
                raise LinclassError(f"{type(self).__name__} has no parameter {name!r}; its parameters are "
                                    f"{self._param_names()}.")
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, Tags, TargetTags  # optional: only scikit-learn calls this

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"
