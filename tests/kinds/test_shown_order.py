"""The order a contributor is shown candidates in, and how a kind reads an answer against it."""

import kinds
from kinds import PositionOutcome, in_order, shown_order, shuffled

RANKING = kinds.get("ranking")
CONVERSATION = kinds.get("conversation")
FOUR = {
    "prompt": "Pick one.",
    "responses": [{"id": i, "text": i.upper()} for i in ("a", "b", "c", "d")],
}


def test_the_same_seed_gives_the_same_order_and_every_order_is_a_permutation():
    ids = ["a", "b", "c", "d"]
    assert shuffled(ids, seed="t1:u1") == shuffled(ids, seed="t1:u1")
    assert sorted(shuffled(ids, seed="t1:u1")) == ids


def test_two_people_get_different_orders_over_a_set_of_tasks():
    mine = [shown_order(RANKING, FOUR, quality={}, task_id=t, contributor_id=1) for t in range(20)]
    yours = [shown_order(RANKING, FOUR, quality={}, task_id=t, contributor_id=2) for t in range(20)]
    assert mine != yours
    assert sum(a != b for a, b in zip(mine, yours, strict=True)) >= 10
    # and one person does not see every task in one order either
    assert len({tuple(order) for order in mine}) > 5


def test_the_first_place_goes_to_each_candidate_about_equally():
    firsts = [
        shown_order(RANKING, FOUR, quality={}, task_id=t, contributor_id=7)[0] for t in range(400)
    ]
    for rid in "abcd":
        assert 60 <= firsts.count(rid) <= 140, firsts.count(rid)


def test_shuffling_off_shows_the_stored_order_and_nothing_to_compare_is_empty():
    assert shown_order(
        RANKING, FOUR, quality={"shuffle_candidates": 0}, task_id=1, contributor_id=1
    ) == ["a", "b", "c", "d"]
    chat = {"messages": [{"role": "user", "content": "Hi"}]}
    assert shown_order(CONVERSATION, chat, quality={}, task_id=1, contributor_id=1) == []
    assert (
        shown_order(kinds.get("bbox"), {"image": "x"}, quality={}, task_id=1, contributor_id=1)
        == []
    )


def test_in_shown_order_reorders_the_candidates_only():
    data = RANKING.in_shown_order(FOUR, ["c", "a", "d", "b"])
    assert [r["id"] for r in data["responses"]] == ["c", "a", "d", "b"]
    assert data["prompt"] == "Pick one."
    assert [r["id"] for r in FOUR["responses"]] == ["a", "b", "c", "d"]  # stored data untouched
    chat = {
        "messages": [],
        "candidates": [{"id": "x", "content": "1"}, {"id": "y", "content": "2"}],
    }
    assert [c["id"] for c in CONVERSATION.in_shown_order(chat, ["y", "x"])["candidates"]] == [
        "y",
        "x",
    ]
    # an order that misses a candidate never hides it
    assert [i["id"] for i in in_order(FOUR["responses"], ["d"])] == ["d", "a", "b", "c"]


def test_pairwise_outcome_is_read_against_the_order_shown():
    outcome = RANKING.position_outcome(
        {"preference": "b", "strength": 1}, shown_order=["b", "a"], schema={}
    )
    assert outcome == PositionOutcome(first_won=True, tie=False, expected=0.5, ties_possible=True)
    lost = RANKING.position_outcome({"preference": "b"}, shown_order=["a", "b"], schema={})
    assert lost.first_won is False
    tie = RANKING.position_outcome({"preference": "tie"}, shown_order=["a", "b"], schema={})
    assert tie == PositionOutcome(first_won=None, tie=True, expected=0.5, ties_possible=True)


def test_rank_and_compare_outcomes_expect_one_in_n_and_have_no_ties():
    ranked = RANKING.position_outcome(
        {"order": ["c", "a", "b"]}, shown_order=["c", "b", "a"], schema={"mode": "rank"}
    )
    assert ranked == PositionOutcome(first_won=True, tie=False, expected=1 / 3, ties_possible=False)
    compared = CONVERSATION.position_outcome(
        {"order": ["y", "x"], "turns": []}, shown_order=["x", "y"], schema={}
    )
    assert compared == PositionOutcome(
        first_won=False, tie=False, expected=0.5, ties_possible=False
    )
    assert CONVERSATION.position_outcome({"turns": []}, shown_order=["x", "y"], schema={}) is None
    assert (
        kinds.get("bbox").position_outcome({"boxes": []}, shown_order=["a", "b"], schema={}) is None
    )
