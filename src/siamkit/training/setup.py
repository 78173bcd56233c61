"""What a training run is built from: the data split, the model's spec and input
standardisation, the device, the optimiser and the learning-rate schedule.

Example:
    >>> prepared = prepare_data(TrainConfig(data="digits"))
    >>> model_spec(TrainConfig(data="digits"), prepared.train).input_shape
    [1, 8, 8]
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import torch
from torch import nn

from siamkit.data.labelled import LabelledData
from siamkit.data.sources import load_data
from siamkit.data.splits import parse_classes, train_val_split
from siamkit.models.hf_folder import hf_folder_kind
from siamkit.models.pretrained import is_pretrained_image, pretrained_image_defaults
from siamkit.models.pretrained_image import pretrained_encoders
from siamkit.models.siamese import SiameseNetwork
from siamkit.models.spec import ModelSpec
from siamkit.models.standardize import Standardize
from siamkit.models.text import pretrained_dim
from siamkit.models.text_tokenizer import text_tokenizer_name
from siamkit.run.config import (
    DEFAULT_IMAGE_ROTATION,
    DEFAULT_IMAGE_UNIFORMITY,
    SMALL_DATA_ITEMS,
    TrainConfig,
    source_options,
)

# share of the training classes a refit run's selection holds out whole by default (at least 2)
VAL_SHARE = 0.2


class PreparedData(NamedTuple):
    """The training split, the validation split (None if it has < 2 classes), class names and
    the training classes held out whole for validation."""

    train: LabelledData
    val: LabelledData | None
    class_names: list[str]
    held_out: tuple[int, ...] = ()


def prepare_data(config: TrainConfig) -> PreparedData:
    """Load the training split of the data and carve validation out of the training classes."""
    data = load_data(config.data, source_options(config), split="train")
    train_classes = parse_classes(config.train_classes, data.class_names)
    eval_classes = parse_classes(config.eval_classes, data.class_names)
    overlap = sorted(set(train_classes) & set(eval_classes))
    if overlap and not config.self_supervised:  # unlabelled training items may be any class
        raise ValueError(
            f"classes {[data.class_names[c] for c in overlap]} are in both --train-classes and "
            "--eval-classes; evaluation classes must never be trained on (to train on every "
            "class, pass --eval-classes none)"
        )
    if config.val_classes == "none":
        val_classes: list[int] = []
    elif config.val_classes is not None:
        val_classes = parse_classes(config.val_classes, data.class_names)
    else:
        val_classes = default_val_classes(train_classes, config.refit)
    split = train_val_split(data, train_classes, val_classes, config.val_fraction, config.seed)
    train_data = data.subset(split.train)
    classes, counts = torch.unique(train_data.y, return_counts=True)
    lonely = [data.class_names[int(c)] for c, n in zip(classes, counts, strict=True) if n < 2]
    if lonely:
        warnings.warn(
            f"training classes {lonely} have fewer than 2 items: they give no similar pair and "
            "serve only as negatives; add items or drop them from --train-classes",
            stacklevel=2,
        )
    if len(classes) < 2:
        raise ValueError("training needs at least 2 classes after holding out validation")
    val = data.subset(split.val) if len(split.val) else None
    if val is not None and len(torch.unique(val.y)) < 2:
        val = None
    return PreparedData(train_data, val, data.class_names, tuple(split.val_classes))


def default_val_classes(train_classes: list[int], refit: bool) -> list[int]:
    """The training classes held out whole when ``--val-classes`` is not given.

    With ``refit`` and 4+ training classes, the last :data:`VAL_SHARE` of them, at least two:
    the operating point is then fitted on pairs *between* held-out classes, as evaluation pairs
    are, on many class pairs when the data has many classes (two classes give one impostor pair
    of classes), and the refit trains the final model on all of them anyway. Otherwise the
    last one (3+ classes), else none.

    Example:
        >>> default_val_classes(list(range(5)), refit=True)
        [3, 4]
        >>> default_val_classes(list(range(100)), refit=True)[:3]
        [80, 81, 82]
    """
    if refit and len(train_classes) >= 4:
        return train_classes[-max(2, round(VAL_SHARE * len(train_classes))) :]
    return train_classes[-1:] if len(train_classes) >= 3 else []


def model_spec(config: TrainConfig, data: LabelledData) -> ModelSpec:
    """The architecture a config asks for, sized to the data's items."""
    base, _, folder = config.encoder.partition(":")
    if base == "hf" and folder:
        hf_folder_kind(folder)  # a folder that is neither text nor image model: say what lacks
    tokenizer = text_tokenizer_name(config.encoder)
    if (data.kind == "text") != (tokenizer is not None):
        raise ValueError(
            f"--encoder {config.encoder} does not fit {data.kind} data ({config.data}); text "
            "data needs a text encoder (minilm | hf:PATH | text_cnn) and text encoders need "
            "text data (text-pairs:FILE | text-labelled:FILE | wordnet)"
        )
    if tokenizer is not None and config.augments:
        raise ValueError(
            "--augment, --self-supervised and --views 2 transform images; text runs take none"
        )
    dim = config.embedding_dim
    if tokenizer is not None and "embedding_dim" not in config.model_fields_set:
        dim = pretrained_dim(config.encoder) or dim  # a pretrained model gives its own size
    image_size, head, keep = None, True, False
    if is_pretrained_image(config.encoder):
        defaults = pretrained_image_defaults(config.encoder, config.image_size)
        image_size = defaults.image_size
        if "embedding_dim" not in config.model_fields_set:  # the pooled features themselves
            head, dim = False, defaults.features
        # the recipe: kept whenever the backbone trains
        keep = config.keep_pretrained is True or (
            config.keep_pretrained is None and config.trainable_blocks != 0
        )
        if keep:
            dim += defaults.features  # the kept pretrained half
    else:
        for flag, given in (
            ("--trainable-blocks", config.trainable_blocks is not None),
            ("--keep-pretrained", bool(config.keep_pretrained)),
        ):
            if given:
                raise ValueError(
                    f"{flag} applies to pretrained image encoders (efficientnet_lite0, hf:PATH "
                    f"of an image model); --encoder {config.encoder} trains whole"
                )
    return ModelSpec(
        encoder=config.encoder,
        input_shape=[config.max_length] if tokenizer else list(data.item_shape),
        kind=data.kind,
        embedding_dim=dim,
        widths=config.widths,
        normalize=config.normalize,
        distance=config.distance,
        tokenizer=tokenizer,
        max_length=config.max_length if tokenizer else None,
        image_size=image_size,
        head=head,
        keep_pretrained=keep,
    )


def fit_standardize(
    model: SiameseNetwork,
    data: LabelledData,
    mean: list[float] | None = None,
    std: list[float] | None = None,
) -> None:
    """Set the model's input standardisation: the given constants (one per channel or feature,
    or a single value for all), else statistics of the training items."""
    x = data.x
    dims = (0, 2, 3) if data.kind == "image" else (0,)
    std_layer = model.encoder[0]  # type: ignore[index]
    assert isinstance(std_layer, Standardize)
    shape = std_layer.mean.shape
    for buffer, given, fitted in (
        (std_layer.mean, mean, lambda: x.mean(dim=dims)),
        (std_layer.std, std, lambda: x.std(dim=dims).clamp_min(1e-6)),
    ):
        if given is None:
            buffer.copy_(fitted().reshape(shape))
            continue
        t = torch.tensor(given, dtype=torch.float32)
        if t.numel() not in (1, buffer.numel()):
            raise ValueError(
                f"input_mean/input_std need 1 or {buffer.numel()} values (one per channel or "
                f"feature), got {t.numel()}"
            )
        buffer.copy_(t.expand(buffer.numel()).reshape(shape))


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; asking for CUDA without it is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but no CUDA device is available; use auto")
    return torch.device(name)


def build_optimizer(
    config: TrainConfig,
    params: list[nn.Parameter],
    fused: bool = False,
    backbone: list[nn.Parameter] | None = None,
) -> torch.optim.Optimizer:
    """The configured optimiser; ``fused`` Adam/AdamW (one kernel over all parameters, the
    same update) is used for text models, where the per-tensor loop over a transformer's
    weights costs seconds per step on CPU. Parameters in ``backbone`` (a pretrained image
    backbone) take ``lr * backbone_lr_mult``; parameters that do not train are left out."""
    ids = {id(p) for p in backbone or []}
    slow = [p for p in params if id(p) in ids and p.requires_grad]
    rest = [p for p in params if id(p) not in ids and p.requires_grad]
    groups: list[dict[str, Any]] = [{"params": rest}]
    if slow:
        groups.append({"params": slow, "lr": config.lr * config.backbone_lr_mult})
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    if fused:
        return cls(groups, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    return cls(groups, lr=config.lr, weight_decay=config.weight_decay)


def set_trainable(model: nn.Module, config: TrainConfig) -> None:
    """Apply ``trainable_blocks`` and ``freeze_bn`` to the pretrained image encoders of
    ``model`` (nothing for other encoders)."""
    for enc in pretrained_encoders(model):
        enc.set_trainable(config.trainable_blocks, config.freeze_bn)


def build_scheduler(
    config: TrainConfig, opt: torch.optim.Optimizer
) -> torch.optim.lr_scheduler.LRScheduler | None:
    if config.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    if config.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(opt, config.lr_step, config.lr_gamma)
    return None


def set_dropout(model: nn.Module, p: float) -> None:
    """Set every dropout layer of ``model`` to probability ``p`` (``--dropout``).

    Raises:
        ValueError: The model has no dropout layer, so the setting would do nothing.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    if not layers:
        raise ValueError(
            f"--dropout {p}: this encoder has no dropout layers (pretrained transformers have); "
            "drop --dropout"
        )
    for m in layers:
        m.p = p


def check_rotation(data: LabelledData) -> None:
    """Raise if ``--rotation`` cannot run on ``data`` (it needs square images)."""
    if data.kind != "image":
        raise ValueError(
            f"--rotation turns images, and this data is {data.kind}; drop --rotation for it"
        )
    if data.x.shape[-1] != data.x.shape[-2]:
        raise ValueError(
            f"--rotation turns images by quarter turns, which needs square images; these are "
            f"{data.x.shape[-2]}x{data.x.shape[-1]} (resize them square with --image-size)"
        )


def resolve_rotation(
    config: TrainConfig, data: LabelledData, saved: dict[str, object] | None
) -> TrainConfig:
    """``config`` with ``rotation=None`` (the image recipe's "auto") made a number.

    :data:`~siamkit.run.config.DEFAULT_IMAGE_ROTATION` for square images, else 0; 0 for a
    pretrained image encoder (its recipe: the rotation task's second pass per batch doubles the
    CPU time of fine-tuning for +0.014 proxy MAP@R, bench/select_pretrained.py).
    ``saved``: the config of a run being resumed; one written before the option existed trained
    without rotation, so it resumes with 0.

    Raises:
        ValueError: ``rotation_classes`` asked for where "auto" turns the rotation task off.
    """
    if config.rotation is not None:
        return config
    square = data.kind == "image" and data.x.shape[-1] == data.x.shape[-2]
    fresh = saved is None or "rotation" in saved
    pretrained = is_pretrained_image(config.encoder)
    weight = DEFAULT_IMAGE_ROTATION if square and fresh and not pretrained else 0.0
    if config.rotation_classes and weight == 0:
        why = (
            "a pretrained image encoder's recipe leaves it off; turn it on with --rotation 1"
            if pretrained
            else "it turns square images only; resize the images square with --image-size"
        )
        raise ValueError(
            f"--rotation-classes needs the rotation task, which is off for this run ({why}), "
            "or drop --rotation-classes"
        )
    return config.model_copy(update={"rotation": weight})


def resolve_uniformity(
    config: TrainConfig, data: LabelledData, saved: dict[str, object] | None
) -> TrainConfig:
    """``config`` with ``uniformity=None`` (the image recipe's "auto") made a number.

    :data:`~siamkit.run.config.DEFAULT_IMAGE_UNIFORMITY` when the training classes have at
    least :data:`~siamkit.run.config.SMALL_DATA_ITEMS` items each (the median over classes),
    else 0: on a few hundred images per class the term cost MAP@R on held-out training classes
    (bench/select_small.py). A pretrained image encoder keeps it at any size (its recipe was
    chosen with it at 100 and 600 images per class, bench/select_pretrained.py). ``saved``: the
    config of a run being resumed, whose number is kept (one written before the option existed
    trained without it: 0).

    Example:
        >>> cfg = TrainConfig(data="digits")  # no loss named: the image recipe, "auto"
        >>> y = torch.arange(4).repeat(10)  # 10 items in each of 4 classes
        >>> small = LabelledData(torch.zeros(40, 1, 8, 8), y, list("abcd"), "image")
        >>> cfg.uniformity, resolve_uniformity(cfg, small, None).uniformity
        (None, 0.0)
    """
    if config.uniformity is not None:
        return config
    if saved is not None:
        kept = saved.get("uniformity", 0.0)
        if isinstance(kept, int | float):
            return config.model_copy(update={"uniformity": float(kept)})
    _, counts = torch.unique(data.y, return_counts=True)
    large = len(counts) > 0 and float(counts.float().median()) >= SMALL_DATA_ITEMS
    weight = DEFAULT_IMAGE_UNIFORMITY if large or is_pretrained_image(config.encoder) else 0.0
    return config.model_copy(update={"uniformity": weight})
