"""Saves and replays: a run on disk, loaded back bit-identical or refused clearly.

* ``container``: the file format shared by saves and replays (magic, checksummed header,
  payload) and its bounded reading;
* ``files``: atomic writes, the cleanup of killed writes' temp files, save file names;
* ``runs``: saving and loading a ``CrashRun`` (header, embedded level, migrations, listing);
* ``replay``: a session as its level, seed and commands, re-run and verified;
* ``state`` / ``restore``: the generic capture and restore of an engine object graph;
* ``audit`` / ``checks``: is a restored state one the engine could have reached?
"""

from .container import (MAGIC, REPLAY_MAGIC, SUFFIX, digest, escape_text, field,
                        open_container, pack_container, parse_container, read_container,
                        read_regular, unpack_limited, unpack_payload)
from .files import clean_stale_temps, default_name, run_name, write_atomic
from .runs import (FORMAT_VERSION, MIGRATIONS, SaveInfo, build_run, check_restored, dump_run,
                   engine_build, header_modified, level_record, list_saves, load_run, migrate,
                   modified_reason, other_build_reason, read_info, rebuild_level, save_run)
from .replay import Replay, ReplayCheck, ReplayFeeder, load_replay, save_replay, verify, verify_run

__all__ = ["FORMAT_VERSION", "MAGIC", "MIGRATIONS", "REPLAY_MAGIC", "SUFFIX", "Replay",
           "ReplayCheck", "ReplayFeeder", "SaveInfo", "build_run", "check_restored",
           "clean_stale_temps", "default_name", "digest", "dump_run", "engine_build",
           "escape_text", "field", "header_modified", "level_record", "list_saves", "load_run",
           "load_replay", "migrate", "modified_reason", "open_container", "other_build_reason",
           "pack_container", "parse_container", "read_container", "read_info", "read_regular",
           "rebuild_level", "run_name", "save_replay", "save_run", "unpack_limited",
           "unpack_payload", "verify", "verify_run", "write_atomic"]
