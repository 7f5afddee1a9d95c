"""What a training run returns, and the one formatter that prints it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Human names of the metrics recipes report (a metric not listed is printed under its key).
METRIC_LABELS = {
    "heldout_clips": "held-out clips",
    "heldout_lsd_db": "held-out log-spectral distance (dB)",
    "heldout_mrstft_logmag": "held-out MR-STFT log-magnitude",
    "heldout_mrstft_sc": "held-out MR-STFT spectral convergence",
    "heldout_component_lsd_db": "held-out log-spectral distance through the vocoder/codec alone (dB)",
    "heldout_component_mrstft_logmag": "held-out MR-STFT log-magnitude through the vocoder/codec alone",
    "active_units": "active latent units",
    "val_perplexity": "validation perplexity",
    "test_perplexity": "test perplexity",
    "heldout_latent_mse": "held-out latent MSE",
    "test_valence_r2": "test R² valence",
    "test_arousal_r2": "test R² arousal",
    "test_quadrant_accuracy": "test quadrant accuracy",
}


@dataclass
class TrainResult:
    """A finished run: where it is, how long it took, and the metrics its recipe measured."""

    engine: str
    out: str
    train_minutes: float
    epochs: int
    steps: int
    params: int
    best_val_loss: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def flat(self) -> dict[str, Any]:
        """One flat dict (stored as ``results`` in the checkpoint's config)."""
        common = {k: getattr(self, k) for k in ("train_minutes", "epochs", "steps", "params", "best_val_loss")}
        return {**common, **self.metrics}

    def lines(self) -> list[str]:
        """The printed summary: one line of the run, one per metric, one of where it is."""
        loss = f", best validation loss {self.best_val_loss:.4g}" if self.best_val_loss is not None else ""
        head = (
            f"trained {self.engine} in {self.train_minutes:g} min: {self.epochs} epochs, {self.steps} steps, "
            f"{self.params:,} parameters{loss}"
        )
        body = [f"  {METRIC_LABELS.get(k, k.replace('_', ' '))}: {_fmt(v)}" for k, v in self.metrics.items()]
        return [head, *body, f"run: {self.out}  (model.safetensors, config.json, plots/)"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
