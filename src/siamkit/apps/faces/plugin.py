"""The faces application plugged into siamkit: the ``face`` model kind, ``siamkit faces`` and
``siamkit init RUN --encoder faces``.

Imported by :func:`siamkit.plugins.load_plugins`; registers by name only (nothing heavy is
imported until a face folder is loaded or the command group is built).
"""

from __future__ import annotations

from siamkit.cli.groups import COMMAND_GROUPS, INIT_ENCODERS
from siamkit.run import EMBEDDERS

EMBEDDERS.register_lazy("face", "siamkit.apps.faces.embedder:FaceEmbedder.from_run_dir")
COMMAND_GROUPS.register_lazy("faces", "siamkit.apps.faces.cli:faces_app")
INIT_ENCODERS.register_lazy("faces", "siamkit.apps.faces.run:init_face_folder")
