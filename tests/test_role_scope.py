"""Who may do what (pipeline.core.role_scope): pure decisions, tested without a root. The property test is
deterministic (derandomize) so CI sees the same examples every run."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.actor import Actor, Kanaal, Rol
from pipeline.core.role_scope import ROLLEN, Taak, doctor_folder, in_own_folder, may, waits_for

VISSER = "39087654301"
visser = Actor("evisser", "Dr. E. Visser", Rol.SO_BEDRIJFSARTS, Kanaal.DESK, big=VISSER)


def test_each_task_belongs_to_its_roles_only():
    for taak, rollen in ROLLEN.items():
        for rol in Rol:
            actor = Actor("x", "X", rol, Kanaal.DESK, big=VISSER)
            assert may(actor, taak) == (rol in rollen), (taak, rol)
    assert not may(Actor("x", "X", Rol.SO_BEDRIJFSARTS, Kanaal.DESK, big=None), Taak.ONDERTEKENEN)
    assert not may(Actor("x", "X", Rol.SO_BEDRIJFSARTS, Kanaal.DESK, big="1234"), Taak.POSTBUS)
    assert not may(Actor("x", "X", Rol.SYSTEEM, Kanaal.SHELL), Taak.TOEZICHT), "a shell user is no FG"


@pytest.mark.parametrize("path, mine", [
    (f"outbox/so-bedrijfsarts/{VISSER}/K/K_advies.pdf", True),
    (f"outbox/so-bedrijfsarts/{VISSER}/K/te-ondertekenen/K_advies.pdf", True),
    (f"outbox/bedrijfsarts/{VISSER}/K/K_advies.pdf", False),  # his BIG, but another role's mailbox
    (f"outbox/so-bedrijfsarts/{VISSER}1/K/K_advies.pdf", False),
    (f"outbox/so-bedrijfsarts/{VISSER}/../49011122201/K/x.pdf", False),
    (f"outbox/so-bedrijfsarts/{VISSER}//x.pdf", False),
    (f"/outbox/so-bedrijfsarts/{VISSER}/K/x.pdf", False),
    (f"outbox/so-bedrijfsarts/{VISSER}", False),
    (f"outbox/so-bedrijfsarts/{VISSER}/", False),
])
def test_own_folder(path, mine):
    assert in_own_folder(visser, path) is mine
    assert waits_for(visser, path=path, signer_big=VISSER) is mine
    assert not waits_for(visser, path=path, signer_big="49011122201")


@settings(derandomize=True, max_examples=300, database=None)
@given(st.lists(st.sampled_from(["outbox", "so-bedrijfsarts", VISSER, "..", ".", "", "K", "x.pdf", "/"]),
                min_size=1, max_size=7))
def test_a_path_in_the_own_folder_never_climbs_out(parts):
    path = "/".join(parts)
    if in_own_folder(visser, path):
        assert path.startswith(doctor_folder(visser) + "/")
        rest = path[len(doctor_folder(visser)) + 1:].split("/")
        assert rest and ".." not in rest and "" not in rest
