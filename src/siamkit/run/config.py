"""The typed training configuration: one field per CLI option, unknown keys rejected."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from siamkit.data.registry import source_kind
from siamkit.data.sources import SourceOptions
from siamkit.distances import DISTANCES
from siamkit.losses import LOSSES
from siamkit.miners import MINERS
from siamkit.models.pretrained import is_pretrained_image
from siamkit.models.registry import ENCODERS
from siamkit.models.text_tokenizer import MINILM, text_tokenizer_name

# siamkit's image recipe, chosen by bench/select_recipe.py and bench/select_uniformity.py on
# held-out *training* classes of Fashion-MNIST (mean validation MAP@R over two folds;
# docs/benchmarks.md): multi-similarity plus 0.3 x the uniformity regulariser, plus the
# rotation-prediction task at weight 1 where the images are square (bench/select_recipe.py,
# three seeds x two folds)
DEFAULT_IMAGE_LOSS = "multi_similarity"
DEFAULT_IMAGE_UNIFORMITY = 0.3
DEFAULT_IMAGE_ROTATION = 1.0
# below this many training items per class (the median over classes) the image recipe leaves
# the uniformity term off: with 300 images per class it cost MAP@R on held-out training classes,
# with 1,000 it was even, and it was chosen at 6,000 (bench/select_small.py,
# bench/select_uniformity.py; docs/benchmarks.md, "Small data sets")
SMALL_DATA_ITEMS = 500
# loss options that come from their own settings (or from the data and model): never in
# loss_options
_OWN_SETTINGS = {
    "margin": "--margin",
    "distance": "--loss-distance (or --distance)",
    "miner": "--miner",
    "temperature": "--temperature",
    "reduction": "--reduction",
    "num_classes": "nothing (the training data sets it)",
    "embedding_dim": "--embedding-dim",
}
# pretrained transformers (the encoder's name before any ':'): fine-tuned, not trained afresh
PRETRAINED_TEXT_ENCODERS = ("minilm", "hf")
# how siamkit fine-tunes a pretrained transformer unless told otherwise: the optimiser settings
# of the WordNet benchmark (docs/benchmarks.md, "Text"), where lr 5e-5 was chosen on
# training-side synsets; at the image default's lr 1e-3 MiniLM falls below its untouched
# self there (docs/text.md)
PRETRAINED_OPTIMIZER: dict[str, Any] = {"optimizer": "adamw", "lr": 5e-5, "weight_decay": 0.01}
# the loss of that benchmark, chosen there on training-side synsets
DEFAULT_TEXT_LOSS = "multiple_negatives_ranking"


def is_pretrained_text(encoder: str) -> bool:
    """Whether ``encoder`` names a pretrained text transformer (``minilm``, ``hf:PATH``; not
    ``hf:PATH`` of an image model folder, which trains as a pretrained image encoder)."""
    base = encoder.split(":", 1)[0]
    return base in PRETRAINED_TEXT_ENCODERS and not is_pretrained_image(encoder)


def default_loss(
    data: str, sampling: str = "balanced", self_supervised: bool = False, encoder: str = "conv"
) -> str:
    """The loss a run gets when none is named.

    ``nt_xent`` for self-supervised runs; ``contrastive`` for explicit pairs; for text data
    with a pretrained transformer :data:`DEFAULT_TEXT_LOSS`; ``contrastive`` for other non-image
    data; otherwise the image recipe :data:`DEFAULT_IMAGE_LOSS` (whose ``uniformity`` stays
    None, "auto", unless given: the trainer makes it :data:`DEFAULT_IMAGE_UNIFORMITY` or 0 by
    the data's size, :func:`siamkit.training.setup.resolve_uniformity`).
    """
    if self_supervised:
        return "nt_xent"
    if sampling == "pairs":
        return "contrastive"
    kind = source_kind(data.split(":", 1)[0])  # each source registers the kind of its items
    if kind == "text" and is_pretrained_text(encoder):
        return DEFAULT_TEXT_LOSS
    if kind != "image":
        return "contrastive"
    return DEFAULT_IMAGE_LOSS


class TrainConfig(BaseModel):
    """Everything that defines a training run; saved resolved as ``config.json`` in the run."""

    # allow_inf_nan=False: every float setting (margin, lr, weight decay, temperature, loss
    # options, input statistics, ...) must be finite, refused before anything is written
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    # --- data ---
    data: str = "digits"  # digits | fashion-mnist[:DIR] | image-folder:PATH | csv:PATH
    train_classes: str = "0-4"  # classes trained on (validation is carved from these); "all"
    eval_classes: str = "5-9"  # classes never seen in training; only `evaluate` looks at them;
    # "none" = a production run that trains on every class it is given (the default when
    # train_classes is "all")
    val_classes: str | None = None  # training classes held out whole; None = the last fifth
    # (at least two) with refit and 4+ training classes (so the operating point is fitted on
    # pairs of unseen classes), else the last one; "none" = no class held out (with
    # val_fraction 0: no validation, the last epoch is kept)
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0)  # share of other training items held out
    refit: bool = True  # with validation: after choosing the epoch count and the operating point
    # on the held-out split, train the final model on *all* training classes for that many
    # epochs (RUN/selection keeps the choosing run); False = the model of the held-in classes
    target_far: float = Field(0.05, gt=0.0, lt=1.0)  # refit runs: the false accept rate the
    # default operating point promises, fitted on pairs of held-out training classes
    keep_selection: bool = False  # refit runs: the final model embeds with the selection model
    # beside the refit one (siamkit.models.ensemble; about twice the inference cost)
    image_size: int | None = Field(None, ge=1)  # image-folder: resize to this size; pretrained
    # image encoders: the side images are resized to inside the model (default 64)
    grayscale: bool = True  # image-folder: 1 channel (True) or RGB (False); not given: RGB for
    # a pretrained image encoder, grey otherwise
    on_mismatch: Literal["resize", "reject"] = "resize"  # image-folder: odd-sized images
    label_column: str = "label"  # csv: the label column
    input_mean: list[float] | None = None  # standardisation constants (per channel/feature, or
    input_std: list[float] | None = None  # one for all); None = fitted on the training items
    # --- model ---
    encoder: str = "conv"  # registered encoder: conv | efficientnet_lite0 (ImageNet weights) |
    # mlp | minilm | hf:PATH | text_cnn
    max_length: int = Field(128, ge=2)  # text: tokens kept per text (longer ones truncated)
    embedding_dim: int = Field(64, ge=1)  # embedding size D
    widths: list[int] | None = None  # encoder channel widths / hidden sizes
    normalize: bool = True  # L2-normalise embeddings
    trainable_blocks: int | None = Field(None, ge=0)  # pretrained image encoders: how many of
    # the backbone's blocks train, counted from the top; 0 = frozen backbone (only the head
    # trains); None = all of it (full fine-tuning)
    backbone_lr_mult: float = Field(0.1, gt=0.0)  # pretrained image encoders: the backbone's
    # learning rate is lr x this (the head takes lr)
    keep_pretrained: bool | None = None  # pretrained image encoders: embed with an untouched
    # copy's features beside the fine-tuned ones (siamkit.models.pretrained_image); None = on
    # whenever the backbone trains (trainable_blocks other than 0), chosen in
    # bench/select_pretrained.py on training classes and a far data set
    freeze_bn: bool = True  # pretrained image encoders: keep the backbone's BatchNorm
    # statistics as pretrained while fine-tuning (CPU batches are too small to re-estimate them)
    distance: str = "euclidean"  # how embeddings are compared (loss, evaluation, verify)
    # --- objective ---
    loss: str = DEFAULT_IMAGE_LOSS  # registered loss: contrastive | triplet | online_contrastive
    # | batch_hard_triplet | nt_xent | multiple_negatives_ranking | multi_similarity | arcface |
    # koch. Not given: see default_loss() (multi_similarity for images, contrastive otherwise)
    margin: float | None = Field(None, gt=0.0)  # loss margin m; None = the loss's own default
    reduction: Literal["mean", "mean_nonzero", "sum"] | None = None  # how per-pair/triplet
    # terms become the loss; None = the loss's default (mean)
    miner: str | None = None  # contrastive: hard_pairs; triplet: batch_hard | semi_hard |
    # distance_weighted; None = every pair / triplet of the batch
    # the loss's other numeric options by name, e.g. multi_similarity's alpha, beta, base,
    # epsilon ({} = its defaults); NaN/inf are refused by _plain_loss_options, naming the option
    loss_options: dict[str, Annotated[float, Field(allow_inf_nan=True)]] = Field(
        default_factory=dict
    )
    temperature: float | None = Field(None, gt=0.0)  # None = the loss's (nt_xent 0.1, MNRL 0.05)
    uniformity: float | None = Field(None, ge=0.0)  # weight λ of the uniformity regulariser
    # (Wang & Isola 2020) added to the loss, L + λ·U, over the batch's embeddings; 0 = off.
    # None (what a run naming no loss gets) = auto: DEFAULT_IMAGE_UNIFORMITY with at least
    # SMALL_DATA_ITEMS training items per class, else 0; a named loss: 0. The trainer saves the
    # number it used
    projection: int = Field(0, ge=0)  # hidden width H of a training-only head g (SimCLR): the
    # loss sees g(embedding), g = Linear(D,H)-ReLU-Linear(H,D), dropped after training; 0 = off
    rotation: float | None = Field(None, ge=0.0)  # weight w of the rotation-prediction task
    # (Gidaris et al. 2019): each image is also turned k·90° and a training-only head predicts
    # k; the trainer adds w·CE. Square images; 0 = off. None (what a run naming no loss
    # gets) = auto: DEFAULT_IMAGE_ROTATION when the images are square, else 0; the trainer
    # saves the number it used
    rotation_hidden: int = Field(128, ge=0)  # the rotation head's hidden width; 0 = one linear
    # layer (the turns must then be told apart linearly in the embedding)
    rotation_classes: bool = False  # the rotation task's turned images also enter the metric
    # loss, each (class, turn) a class of its own (self-supervised label augmentation, Lee, Hwang
    # & Shin 2020); needs the rotation task on
    augment: bool = False  # random crop, flip, rotation, noise, brightness/contrast (images)
    views: Literal[1, 2] = 1  # 2: each labelled item enters a batch as two augmented views
    # (supervised contrastive style; implies augmentation; needs a labels-based loss)
    self_supervised: bool = False  # no labels: positives are two augmentations of one item,
    # negatives the rest of the batch (use with nt_xent); labels only evaluate
    loss_distance: str | None = None  # distance inside the loss; None = the loss's own default
    # (contrastive: euclidean, triplet: squared_euclidean, as in their formulas)
    sampling: Literal["balanced", "pairs", "random"] = "balanced"  # P×K batches (all pairs/
    # triplets in each batch), explicit pairs (contrastive) / triplets (triplet) from
    # Pair/TripletDataset, or plain random batches (no class balance)
    class_weighting: Literal["none", "inverse_frequency"] = "none"  # sampling=random only:
    # inverse_frequency draws items with probability ∝ 1/class size (small classes recur)
    positive_fraction: float = Field(0.5, ge=0.0, le=1.0)  # sampling=pairs: share similar
    classes_per_batch: int | None = Field(None, ge=2)  # P; None = min(classes, batch/2)
    # --- optimisation ---
    epochs: int = Field(5, ge=1)
    gather_negatives: bool = True  # torchrun: the loss sees every process's embeddings (the
    # global batch, as one process would); False: each process's own share only
    grad_accum: int = Field(1, ge=1)  # batches whose gradients add up before one optimiser
    # step (a larger effective batch; in-batch negatives still come from one batch)
    batch_size: int = Field(128, ge=2)  # items per batch (pairs mode: pairs per batch)
    # not given: adamw, lr 5e-5, weight decay 0.01 for pretrained transformers (minilm, hf:PATH;
    # PRETRAINED_OPTIMIZER), else these
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    momentum: float = Field(0.9, ge=0.0, lt=1.0)  # sgd only
    max_grad_norm: float | None = Field(None, gt=0.0)  # clip the gradients' global L2 norm to
    # this before each optimiser step (as transformer fine-tuning usually does); None = off
    dropout: float | None = Field(None, ge=0.0, lt=1.0)  # every dropout layer's probability
    # while training (pretrained transformers ship 0.1); None = the model's own
    ema: float | None = Field(None, gt=0.0, lt=1.0)  # exponential moving average of the
    # weights and BatchNorm statistics, decay per optimiser step (e.g. 0.998): validation and
    # the saved model use the average; None = off
    scheduler: Literal["none", "cosine", "step"] = "none"
    lr_step: int = Field(10, ge=1)  # step scheduler: epochs between decays
    lr_gamma: float = Field(0.1, gt=0.0)  # step scheduler: decay factor
    # --- run ---
    seed: int = 0  # seeds weights, splits, pairs and batches
    device: Literal["auto", "cpu", "cuda"] = "auto"
    amp: bool = True  # bfloat16 autocast on CUDA (ignored on CPU)
    channels_last: bool = True  # image models train in NHWC memory layout (faster; same math)
    num_threads: int | None = Field(None, ge=1)  # torch CPU threads; None = torch default
    val_pairs: int = Field(4000, ge=10)  # pairs drawn from the validation split
    log: Literal["none", "tensorboard"] = "none"  # tensorboard: curves in RUN/tensorboard/
    out: str = "runs/latest"  # run directory

    @model_validator(mode="before")
    @classmethod
    def _default_loss(cls, values: Any) -> Any:
        if isinstance(values, dict) and is_pretrained_text(str(values.get("encoder", "conv"))):
            # fine-tuning: the optimiser settings that keep what the model knows, unless given
            values = {**PRETRAINED_OPTIMIZER, **values}
        if isinstance(values, dict) and values.get("loss") is None:
            values = {**values}
            values["loss"] = default_loss(
                str(values.get("data", "digits")),
                str(values.get("sampling", "balanced")),
                bool(values.get("self_supervised", False)),
                str(values.get("encoder", "conv")),
            )
            if values["loss"] == DEFAULT_TEXT_LOSS and values.get("distance") is None:
                values["distance"] = "cosine"  # how text embeddings are compared
            if values["loss"] != DEFAULT_IMAGE_LOSS:
                # only the image recipe turns images and spreads embeddings by default (its
                # "auto" None is made a number by the trainer, by the data)
                for key in ("rotation", "uniformity"):
                    if values.get(key) is None:
                        values[key] = 0.0
        elif isinstance(values, dict):
            # a named loss: no rotation or uniformity unless asked. An explicit None (auto, as a
            # saved config.json of an unresolved run holds) stays None.
            values = {**values}
            for key in ("rotation", "uniformity"):
                values.setdefault(key, 0.0)
        return values

    @model_validator(mode="before")
    @classmethod
    def _pretrained_image_reads_rgb(cls, values: Any) -> Any:
        if (
            isinstance(values, dict)
            and is_pretrained_image(str(values.get("encoder", "conv")))
            and values.get("grayscale") is None
        ):
            values = {**values, "grayscale": False}  # image-folder photos stay RGB
        return values

    @model_validator(mode="before")
    @classmethod
    def _all_classes_leave_none(cls, values: Any) -> Any:
        # training on every class leaves nothing to evaluate: no --eval-classes needed
        if (
            isinstance(values, dict)
            and str(values.get("train_classes", "")).strip() == "all"
            and values.get("eval_classes") is None
        ):
            values = {**values, "eval_classes": "none"}
        return values

    @model_validator(mode="after")
    def _rotation_classes_need_rotation(self) -> TrainConfig:
        if self.rotation_classes and self.rotation == 0:
            raise ValueError(
                "rotation_classes puts the rotation task's turned images into the metric loss; "
                "it needs the task on: give --rotation W (W > 0) or drop --rotation-classes"
            )
        if self.rotation_classes and self.self_supervised:
            raise ValueError(
                "rotation_classes labels turned images by their class, and self-supervised runs "
                "have no classes; drop --rotation-classes (or --self-supervised)"
            )
        return self

    @property
    def augments(self) -> bool:
        """Whether training images are augmented (``augment``, self-supervised, two views)."""
        return self.augment or self.self_supervised or self.views == 2

    @model_validator(mode="after")
    def _weighting_needs_random_batches(self) -> TrainConfig:
        if self.class_weighting != "none" and self.sampling != "random":
            raise ValueError(
                f"class_weighting={self.class_weighting} reweights plain random batches; use "
                f"--sampling random with it (sampling={self.sampling} balances classes itself "
                "or gives explicit pairs)"
            )
        return self

    @field_validator("encoder")
    @classmethod
    def _known_encoder(cls, v: str) -> str:
        ENCODERS.get(v.partition(":")[0])  # hf:PATH names the encoder 'hf'
        return v

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, v: str) -> str:
        LOSSES.get(v)
        return v

    @field_validator("loss_options")
    @classmethod
    def _plain_loss_options(cls, v: dict[str, float]) -> dict[str, float]:
        own = sorted(set(v) & set(_OWN_SETTINGS))
        if own:
            raise ValueError(
                f"{own[0]} has its own setting; use {_OWN_SETTINGS[own[0]]} instead of loss_options"
            )
        bad = [k for k, x in v.items() if not math.isfinite(x)]
        if bad:
            raise ValueError(f"{bad[0]}={v[bad[0]]} is not a finite number")
        return v

    @field_validator("miner")
    @classmethod
    def _known_miner(cls, v: str | None) -> str | None:
        if v is not None:
            MINERS.get(v)
        return v

    @field_validator("distance", "loss_distance")
    @classmethod
    def _known_distance(cls, v: str | None) -> str | None:
        if v is not None:
            DISTANCES.get(v)
        return v

    @classmethod
    def from_sources(
        cls, file: str | Path | None = None, overrides: dict[str, Any] | None = None
    ) -> TrainConfig:
        """Settings from a YAML/JSON file, then ``overrides`` (e.g. CLI flags) on top.

        Raises:
            ValueError: Unknown keys, bad values or an unreadable file, with a readable message.
        """
        values: dict[str, Any] = {}
        if file is not None:
            path = Path(file)
            try:
                loaded = yaml.safe_load(path.read_text())
            except (OSError, yaml.YAMLError) as e:
                raise ValueError(f"cannot read config file {path}: {e}") from e
            if loaded is not None and not isinstance(loaded, dict):
                raise ValueError(f"config file {path} must hold a mapping of settings")
            values.update(loaded or {})
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as e:
            raise ValueError(format_validation_error(e, cls)) from None


def format_validation_error(e: ValidationError, model: type[BaseModel]) -> str:
    """One line per problem, naming the setting and the valid keys for unknown ones."""
    lines = []
    for err in e.errors():
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            valid = ", ".join(sorted(model.model_fields))
            lines.append(f"unknown setting '{key}'; valid settings: {valid}")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"setting '{key}': {msg} (got {err.get('input')!r})")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def source_options(config: TrainConfig) -> SourceOptions:
    """The data-source options of a config."""
    return SourceOptions(
        image_size=config.image_size,
        grayscale=config.grayscale,
        on_mismatch=config.on_mismatch,
        label_column=config.label_column,
        tokenizer=text_tokenizer_name(config.encoder) or MINILM,
        max_length=config.max_length,
    )
