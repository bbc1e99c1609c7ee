"""Tests for portal.core.calendar: Fed banking days, New York cut-offs and ISO 8601 durations."""

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.core.calendar import (
    TZ,
    Duration,
    add_banking_days,
    add_duration,
    at_local,
    business_date,
    fed_holidays,
    is_banking_day,
    local_date,
    next_banking_day,
    next_cutoff,
    parse_duration,
    previous_banking_day,
)

# No example database: failures are reproduced from the printed example, and the shared tree
# stays free of a .hypothesis directory. No deadline: the first call per year fills a cache.
PROPERTY = settings(database=None, deadline=None, max_examples=200)

DATES = st.dates(min_value=date(1995, 1, 1), max_value=date(2045, 12, 31))
BANKING_DATES = DATES.map(lambda d: add_banking_days(d, 0))
STEPS = st.integers(min_value=-400, max_value=400)
_INSTANT_BASE = datetime(1995, 1, 1, tzinfo=UTC)
INSTANTS = st.builds(
    lambda s, us: _INSTANT_BASE + timedelta(seconds=s, microseconds=us),
    st.integers(min_value=0, max_value=50 * 366 * 86_400),
    st.integers(min_value=0, max_value=999_999),
)
CUTOFF = time(19, 45)


def days(start: date, stop: date) -> Iterator[date]:
    """Every date in the half-open range [start, stop)."""
    d = start
    while d < stop:
        yield d
        d += timedelta(days=1)


def count_banking_days(start: date, stop: date) -> int:
    return sum(1 for d in days(start, stop) if is_banking_day(d))


def ny(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ)


class TestFedHolidays:
    @pytest.mark.parametrize(
        ("day", "name"),
        [
            (date(2026, 1, 1), "New Year's Day"),
            (date(2026, 1, 19), "Birthday of Martin Luther King, Jr."),
            (date(2026, 2, 16), "Washington's Birthday"),
            (date(2026, 5, 25), "Memorial Day"),
            (date(2026, 6, 19), "Juneteenth National Independence Day"),
            (date(2026, 7, 4), "Independence Day"),
            (date(2026, 9, 7), "Labor Day"),
            (date(2026, 10, 12), "Columbus Day"),
            (date(2026, 11, 11), "Veterans Day"),
            (date(2026, 11, 26), "Thanksgiving Day"),
            (date(2026, 12, 25), "Christmas Day"),
            (date(2027, 7, 5), "Independence Day (observed)"),
            (date(2022, 6, 20), "Juneteenth National Independence Day (observed)"),
            (date(2022, 12, 26), "Christmas Day (observed)"),
            (date(2023, 1, 2), "New Year's Day (observed)"),
        ],
    )
    def test_known_holiday(self, day: date, name: str) -> None:
        assert fed_holidays(day.year)[day] == name

    def test_saturday_holiday_is_not_moved(self) -> None:
        table = fed_holidays(2026)
        assert date(2026, 7, 4) in table
        assert date(2026, 7, 3) not in table
        assert date(2026, 7, 6) not in table

    def test_no_juneteenth_before_2022(self) -> None:
        names = set(fed_holidays(2021).values())
        assert not any(name.startswith("Juneteenth") for name in names)

    def test_every_year_has_the_eleven_holidays(self) -> None:
        for year in range(2000, 2041):
            base_names = {name for name in fed_holidays(year).values() if "(" not in name}
            assert len(base_names) == (11 if year >= 2022 else 10), year

    def test_result_is_sorted_copy(self) -> None:
        table = fed_holidays(2027)
        assert list(table) == sorted(table)
        table.clear()
        assert date(2027, 7, 5) in fed_holidays(2027)


# Oracle: holidays' GOVERNMENT category is the full federal (OPM) list; the default PUBLIC
# category lacks MLK, Washington's Birthday, Columbus and Veterans Day (formats.md §7).
FED_HOLIDAY_NAMES = frozenset(
    {
        "New Year's Day",
        "Birthday of Martin Luther King, Jr.",
        "Washington's Birthday",
        "Memorial Day",
        "Juneteenth National Independence Day",
        "Independence Day",
        "Labor Day",
        "Columbus Day",
        "Veterans Day",
        "Thanksgiving Day",
        "Christmas Day",
    }
)

# Names the oracle carries that the allow-list drops. All are executive-order closures of federal
# executive agencies; the Federal Reserve is not an executive agency, is not on OPM's schedule
# for these and kept the Fedwire/FedACH services open (its holiday list has only the 11 above).
FILTERED_ORACLE_NAMES = frozenset(
    {
        # EO closures of Dec 24 in 2001, 2007, 2012, 2018, 2019, 2020, 2024 and 2025.
        "Christmas Eve",
        # Half-day EO closures of Dec 24 in 2002, 2009 and 2015 (afternoon only in any case).
        "Christmas Eve (half-day closing)",
        # EO closures of Dec 26 in 2003, 2008, 2014 and 2025.
        "Day After Christmas",
        # Days of mourning for former presidents: 2004-06-11, 2007-01-02, 2018-12-05 and
        # 2025-01-09. Markets closed on some of them, the Fed's payment services did not.
        "National Day of Mourning for former President Ronald Reagan",
        "National Day of Mourning for former President Gerald R. Ford",
        "National Day of Mourning for former President George H. W. Bush",
        "National Day of Mourning for former President Jimmy Carter",
    }
)

# Differences that remain after filtering and applying the Fed observance rule:
# date -> (oracle's name, our name), None meaning "not present".
DOCUMENTED_ORACLE_DIFFERENCES: dict[date, tuple[str | None, str | None]] = {
    # Juneteenth became a federal holiday on 2021-06-17 and federal employees observed it on
    # Fri 2021-06-18 (the oracle has Sat 2021-06-19 with observed=False). The Fed announced it
    # would first close for Juneteenth in 2022, so 2021 has no Juneteenth for us.
    date(2021, 6, 19): ("Juneteenth National Independence Day", None),
}


def us_federal_holidays(year: int) -> dict[date, str]:
    """holidays.US in the GOVERNMENT category, without its OPM (Sat -> Fri) observance.

    country_holidays("US", ...) builds the same holidays.US object but is typed for mypy.
    """
    federal = holidays.country_holidays(
        "US", years=year, categories=(holidays.GOVERNMENT,), observed=False
    )
    return dict(federal)


def oracle_fed_holidays(year: int) -> dict[date, str]:
    federal = us_federal_holidays(year)
    table: dict[date, str] = {}
    for day, name in federal.items():
        if name not in FED_HOLIDAY_NAMES:
            continue
        table[day] = name
        # Fed observance (formats.md §7): Sunday -> also the Monday; Saturday -> nothing.
        if day.weekday() == 6:
            table[day + timedelta(days=1)] = f"{name} (observed)"
    return table


class TestFedHolidaysOracle:
    @pytest.mark.parametrize("year", range(2000, 2041))
    def test_matches_holidays_package(self, year: int) -> None:
        oracle = oracle_fed_holidays(year)
        ours = fed_holidays(year)
        differences = {
            day: (oracle.get(day), ours.get(day))
            for day in oracle.keys() | ours.keys()
            if oracle.get(day) != ours.get(day)
        }
        expected = {
            day: diff for day, diff in DOCUMENTED_ORACLE_DIFFERENCES.items() if day.year == year
        }
        assert differences == expected

    def test_every_oracle_name_is_classified(self) -> None:
        names: set[str] = set()
        for year in range(2000, 2041):
            names.update(us_federal_holidays(year).values())
        assert names - FED_HOLIDAY_NAMES - FILTERED_ORACLE_NAMES == set()
        assert names >= FED_HOLIDAY_NAMES


# Weekday closures, typed in from the Fed's published schedules (k8 holiday page).
WEEKDAY_CLOSURES = {
    2026: {
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 2, 16),
        date(2026, 5, 25),
        date(2026, 6, 19),
        date(2026, 9, 7),
        date(2026, 10, 12),
        date(2026, 11, 11),
        date(2026, 11, 26),
        date(2026, 12, 25),
    },
    2027: {
        date(2027, 1, 1),
        date(2027, 1, 18),
        date(2027, 2, 15),
        date(2027, 5, 31),
        date(2027, 7, 5),
        date(2027, 9, 6),
        date(2027, 10, 11),
        date(2027, 11, 11),
        date(2027, 11, 25),
    },
    2028: {
        date(2028, 1, 17),
        date(2028, 2, 21),
        date(2028, 5, 29),
        date(2028, 6, 19),
        date(2028, 7, 4),
        date(2028, 9, 4),
        date(2028, 10, 9),
        date(2028, 11, 23),
        date(2028, 12, 25),
    },
}


class TestIsBankingDay:
    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (date(2026, 7, 3), True),  # Friday before Saturday 2026-07-04
            (date(2026, 7, 4), False),  # Saturday holiday
            (date(2027, 7, 5), False),  # Monday after Sunday 2027-07-04
            (date(2027, 6, 18), True),  # Friday before Saturday Juneteenth 2027
            (date(2027, 12, 24), True),  # Friday before Saturday Christmas 2027
            (date(2027, 12, 31), True),  # Friday before Saturday New Year 2028
            (date(2028, 11, 10), True),  # Friday before Saturday Veterans Day 2028
            (date(2021, 6, 18), True),  # no Fed Juneteenth before 2022
            (date(2022, 6, 20), False),  # Sunday Juneteenth 2022 observed Monday
            (date(2026, 11, 26), False),  # Thanksgiving
            (date(2026, 11, 27), True),  # day after Thanksgiving
            (date(2025, 12, 24), True),  # EO closure of agencies, not the Fed
            (date(2025, 1, 9), True),  # national day of mourning, Fed open
            (date(2026, 3, 7), False),  # Saturday
            (date(2026, 3, 8), False),  # Sunday
            (date(2026, 3, 9), True),  # Monday
        ],
    )
    def test_known_day(self, day: date, expected: bool) -> None:
        assert is_banking_day(day) is expected

    @pytest.mark.parametrize("year", sorted(WEEKDAY_CLOSURES))
    def test_full_year_matches_brute_force(self, year: int) -> None:
        closures = WEEKDAY_CLOSURES[year]
        mismatches = [
            d
            for d in days(date(year, 1, 1), date(year + 1, 1, 1))
            if is_banking_day(d) != (d.weekday() < 5 and d not in closures)
        ]
        assert mismatches == []
        assert count_banking_days(date(year, 1, 1), date(year + 1, 1, 1)) == sum(
            1 for d in days(date(year, 1, 1), date(year + 1, 1, 1)) if d.weekday() < 5
        ) - len(closures)

    def test_rejects_datetime(self) -> None:
        with pytest.raises(TypeError):
            is_banking_day(datetime(2026, 7, 3, tzinfo=UTC))


class TestNextBankingDay:
    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (date(2026, 7, 2), date(2026, 7, 3)),
            (date(2026, 7, 3), date(2026, 7, 6)),
            (date(2027, 7, 2), date(2027, 7, 6)),  # Fri -> Tue over Sun holiday observed Mon
            (date(2026, 11, 25), date(2026, 11, 27)),
            (date(2026, 12, 31), date(2027, 1, 4)),
        ],
    )
    def test_example(self, day: date, expected: date) -> None:
        assert next_banking_day(day) == expected

    @PROPERTY
    @given(DATES)
    def test_is_first_banking_day_after(self, day: date) -> None:
        result = next_banking_day(day)
        assert result > day
        assert is_banking_day(result)
        assert count_banking_days(day + timedelta(days=1), result) == 0


class TestPreviousBankingDay:
    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (date(2026, 7, 6), date(2026, 7, 3)),
            (date(2027, 7, 6), date(2027, 7, 2)),
            (date(2027, 1, 4), date(2026, 12, 31)),
            (date(2028, 1, 3), date(2027, 12, 31)),
        ],
    )
    def test_example(self, day: date, expected: date) -> None:
        assert previous_banking_day(day) == expected

    @PROPERTY
    @given(DATES)
    def test_is_last_banking_day_before(self, day: date) -> None:
        result = previous_banking_day(day)
        assert result < day
        assert is_banking_day(result)
        assert count_banking_days(result + timedelta(days=1), day) == 0


class TestAddBankingDays:
    @pytest.mark.smoke
    @pytest.mark.parametrize(
        ("day", "n", "expected"),
        [
            (date(2026, 3, 7), 1, date(2026, 3, 9)),  # Sat + 1 -> Mon
            (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Fri + 1 -> Mon
            (date(2026, 3, 9), 1, date(2026, 3, 10)),
            (date(2026, 11, 25), 2, date(2026, 11, 30)),  # over Thanksgiving
            (date(2026, 3, 9), 0, date(2026, 3, 9)),
            (date(2026, 3, 7), 0, date(2026, 3, 9)),
            (date(2027, 7, 5), 0, date(2027, 7, 6)),  # holiday -> next banking day
            (date(2026, 3, 9), -1, date(2026, 3, 6)),
            (date(2026, 3, 8), -1, date(2026, 3, 6)),
            (date(2027, 7, 6), -2, date(2027, 7, 1)),
        ],
    )
    def test_example(self, day: date, n: int, expected: date) -> None:
        assert add_banking_days(day, n) == expected

    @PROPERTY
    @given(DATES, STEPS)
    def test_counts_n_banking_days(self, day: date, n: int) -> None:
        result = add_banking_days(day, n)
        assert is_banking_day(result)
        if n > 0:
            assert count_banking_days(day + timedelta(days=1), result + timedelta(days=1)) == n
        elif n < 0:
            assert count_banking_days(result, day) == -n
        else:
            assert result >= day
            assert count_banking_days(day, result) == 0

    @PROPERTY
    @given(BANKING_DATES, STEPS)
    def test_round_trip_from_banking_day(self, day: date, n: int) -> None:
        assert add_banking_days(add_banking_days(day, n), -n) == day


class TestLocalDate:
    def test_evening_in_new_york_is_next_day_in_utc(self) -> None:
        assert local_date(datetime(2026, 7, 4, 3, 30, tzinfo=UTC)) == date(2026, 7, 3)

    def test_winter_offset(self) -> None:
        assert local_date(datetime(2026, 1, 2, 4, 59, tzinfo=UTC)) == date(2026, 1, 1)
        assert local_date(datetime(2026, 1, 2, 5, 0, tzinfo=UTC)) == date(2026, 1, 2)

    def test_rejects_naive(self) -> None:
        naive = datetime.combine(date(2026, 7, 3), time(12))
        with pytest.raises(ValueError, match="timezone-aware"):
            local_date(naive)


class TestAtLocal:
    def test_summer_and_winter_offsets(self) -> None:
        assert at_local(date(2026, 7, 3), time(19, 45)) == datetime(2026, 7, 3, 23, 45, tzinfo=UTC)
        assert at_local(date(2026, 1, 2), time(19, 45)) == datetime(2026, 1, 3, 0, 45, tzinfo=UTC)

    def test_result_is_utc(self) -> None:
        assert at_local(date(2026, 7, 3), time(9)).tzinfo is UTC

    def test_nonexistent_time_uses_offset_before_transition(self) -> None:
        # 02:30 does not exist on 2026-03-08; fold=0 reads it as EST, i.e. 03:30 EDT.
        assert at_local(date(2026, 3, 8), time(2, 30)) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)

    def test_ambiguous_time_is_first_occurrence(self) -> None:
        expected = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
        assert at_local(date(2026, 11, 1), time(1, 30)) == expected
        assert at_local(date(2026, 11, 1), time(1, 30, fold=1)) == expected

    def test_rejects_aware_time(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            at_local(date(2026, 7, 3), time(9, tzinfo=UTC))

    @PROPERTY
    @given(DATES, st.times())
    def test_round_trips_on_banking_days(self, day: date, t: time) -> None:
        day = add_banking_days(day, 0)
        instant = at_local(day, t)
        assert instant.astimezone(TZ).replace(tzinfo=None) == datetime.combine(day, t)


class TestBusinessDate:
    @pytest.mark.parametrize(
        ("instant", "expected"),
        [
            (ny(2026, 3, 10, 14, 0), date(2026, 3, 10)),  # Tue before cut-off
            (ny(2026, 3, 10, 19, 44, 59), date(2026, 3, 10)),
            (ny(2026, 3, 10, 19, 45), date(2026, 3, 11)),  # exactly at cut-off counts as after
            (ny(2026, 3, 10, 19, 50), date(2026, 3, 11)),
            (ny(2026, 3, 13, 20, 0), date(2026, 3, 16)),  # Fri after cut-off -> Mon
            (ny(2026, 3, 14, 10, 0), date(2026, 3, 16)),  # Saturday
            (ny(2026, 11, 26, 10, 0), date(2026, 11, 27)),  # Thanksgiving morning
            (ny(2027, 7, 5, 10, 0), date(2027, 7, 6)),  # observed Independence Day
            (ny(2026, 7, 3, 10, 0), date(2026, 7, 3)),  # Fri before Saturday holiday
            (ny(2026, 3, 8, 1, 59), date(2026, 3, 9)),  # DST start day (a Sunday)
            (ny(2026, 3, 8, 3, 0), date(2026, 3, 9)),
            (ny(2026, 11, 1, 1, 30), date(2026, 11, 2)),  # DST end day (a Sunday)
        ],
    )
    def test_example(self, instant: datetime, expected: date) -> None:
        assert business_date(instant, CUTOFF) == expected

    def test_late_evening_across_utc_date_boundary(self) -> None:
        # 23:30 EDT on Tue 2026-03-10 is 03:30 UTC on Wed 2026-03-11.
        instant = datetime(2026, 3, 11, 3, 30, tzinfo=UTC)
        assert instant.astimezone(TZ).hour == 23
        assert business_date(instant, CUTOFF) == date(2026, 3, 11)
        assert business_date(instant, time(23, 59)) == date(2026, 3, 10)

    def test_early_morning_utc_is_previous_new_york_day(self) -> None:
        # 03:30 UTC on Sat 2026-03-14 is 23:30 EDT on Fri 2026-03-13.
        instant = datetime(2026, 3, 14, 3, 30, tzinfo=UTC)
        assert business_date(instant, time(23, 59)) == date(2026, 3, 13)

    def test_monday_after_dst_changes(self) -> None:
        assert business_date(ny(2026, 3, 9, 19, 0), CUTOFF) == date(2026, 3, 9)
        assert business_date(ny(2026, 11, 2, 19, 0), CUTOFF) == date(2026, 11, 2)

    def test_rejects_naive(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            business_date(datetime.combine(date(2026, 3, 10), time(12)), CUTOFF)

    @PROPERTY
    @given(INSTANTS, st.times())
    def test_is_banking_day_not_before_local_date(self, instant: datetime, cutoff: time) -> None:
        result = business_date(instant, cutoff)
        assert is_banking_day(result)
        assert local_date(instant) <= result <= next_banking_day(local_date(instant))


class TestNextCutoff:
    @pytest.mark.parametrize(
        ("after", "expected"),
        [
            (ny(2026, 3, 10, 12, 0), ny(2026, 3, 10, 19, 45)),
            (ny(2026, 3, 10, 19, 45), ny(2026, 3, 11, 19, 45)),  # strictly after
            (ny(2026, 3, 10, 19, 44, 59), ny(2026, 3, 10, 19, 45)),
            (ny(2026, 3, 13, 19, 45), ny(2026, 3, 16, 19, 45)),  # over a weekend
            (ny(2026, 3, 7, 8, 0), ny(2026, 3, 9, 19, 45)),  # from Saturday over DST start
            (ny(2026, 11, 25, 20, 0), ny(2026, 11, 27, 19, 45)),  # over Thanksgiving
            (ny(2027, 7, 2, 20, 0), ny(2027, 7, 6, 19, 45)),  # over weekend + observed holiday
            (ny(2026, 10, 30, 20, 0), ny(2026, 11, 2, 19, 45)),  # over DST end
        ],
    )
    def test_example(self, after: datetime, expected: datetime) -> None:
        result = next_cutoff(after, CUTOFF)
        assert result == expected
        assert result.tzinfo is UTC

    def test_exact_utc_instant(self) -> None:
        after = datetime(2026, 7, 2, 23, 45, tzinfo=UTC)  # 19:45 EDT Thu, a cut-off itself
        assert next_cutoff(after, CUTOFF) == datetime(2026, 7, 3, 23, 45, tzinfo=UTC)

    def test_rejects_naive(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            next_cutoff(datetime.combine(date(2026, 3, 10), time(12)), CUTOFF)

    @PROPERTY
    @given(INSTANTS, st.times())
    def test_agrees_with_business_date(self, after: datetime, cutoff: time) -> None:
        result = next_cutoff(after, cutoff)
        assert result > after
        local = result.astimezone(TZ)
        assert local.time() == cutoff
        assert is_banking_day(local.date())
        # The batch that closes next is the one for the instant's business date.
        assert local.date() == business_date(after, cutoff)


class TestParseDuration:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("P1D", Duration(days=1)),
            ("PT2H", Duration(hours=2)),
            ("P1M", Duration(months=1)),
            ("PT1M", Duration(minutes=1)),
            ("P1Y", Duration(years=1)),
            ("P2W", Duration(weeks=2)),
            ("PT90M", Duration(minutes=90)),
            ("PT0S", Duration()),
            ("P0D", Duration()),
            ("PT45S", Duration(seconds=45)),
            ("P1Y2M3DT4H5M6S", Duration(1, 2, 0, 3, 4, 5, 6)),
            ("P1Y2M1W3DT4H5M6S", Duration(1, 2, 1, 3, 4, 5, 6)),
            ("P1W2D", Duration(weeks=1, days=2)),
            ("P1DT12H", Duration(days=1, hours=12)),
            ("P007D", Duration(days=7)),
            ("P100Y", Duration(years=100)),
            ("P1200M", Duration(months=1200)),
            ("P36524D", Duration(days=36524)),
        ],
    )
    def test_valid(self, text: str, expected: Duration) -> None:
        assert parse_duration(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "P",
            "PT",
            "1D",
            "T1H",
            "-P1D",
            "+P1D",
            "P-1D",
            "p1d",
            "P1d",
            "pT1H",
            "PT1.5H",
            "PT1,5H",
            "P0.5D",
            "P1DT",
            " P1D",
            "P1D ",
            "P 1D",
            "P1D\n",
            "P1H",  # hours need the T
            "PT1D",  # days may not follow the T
            "PT1Y",
            "P1D1Y",  # out of order
            "PT1S1M",
            "P1M1Y",
            "P1D2D",  # repeated
            "P1Y1Y",
            "PT1H1H",
            "P1DT1H1D",
            "P١D",  # non-ASCII digit
            "P1E3D",
            "PD",
            "PTH",
            "P101Y",  # absurd sizes
            "P100Y1D",
            "P1201M",
            "P36525D",
            "P99999999999999999999D",
            "PT" + "9" * 5000 + "S",
        ],
    )
    def test_invalid(self, text: str) -> None:
        with pytest.raises(ValueError, match="duration"):
            parse_duration(text)

    @PROPERTY
    @given(
        st.builds(
            Duration,
            years=st.integers(0, 3),
            months=st.integers(0, 30),
            weeks=st.integers(0, 10),
            days=st.integers(0, 400),
            hours=st.integers(0, 100),
            minutes=st.integers(0, 200),
            seconds=st.integers(0, 5000),
        )
    )
    def test_isoformat_round_trips(self, duration: Duration) -> None:
        assert parse_duration(duration.isoformat()) == duration


class TestDuration:
    @pytest.mark.parametrize(
        "make",
        [
            lambda: Duration(seconds=1.5),  # type: ignore[arg-type]
            lambda: Duration(days=True),
            lambda: Duration(hours=-1),
            lambda: Duration(years=101),
        ],
    )
    def test_rejects_invalid_component(self, make: Callable[[], Duration]) -> None:
        with pytest.raises(ValueError, match=r"(?i)duration"):
            make()

    def test_isoformat(self) -> None:
        assert Duration().isoformat() == "PT0S"
        assert Duration(days=1).isoformat() == "P1D"
        assert Duration(hours=2).isoformat() == "PT2H"
        assert Duration(1, 2, 0, 3, 4, 5, 6).isoformat() == "P1Y2M3DT4H5M6S"


class TestAddDuration:
    def test_p1d_across_dst_start_keeps_local_time(self) -> None:
        result = add_duration(ny(2026, 3, 7, 10), parse_duration("P1D"))
        assert result == ny(2026, 3, 8, 10)
        assert result - ny(2026, 3, 7, 10) == timedelta(hours=23)
        assert result.tzinfo is UTC

    def test_pt24h_across_dst_start_is_elapsed_time(self) -> None:
        result = add_duration(ny(2026, 3, 7, 10), parse_duration("PT24H"))
        assert result == ny(2026, 3, 8, 11)
        assert result.astimezone(TZ).hour != 10

    def test_p1d_across_dst_end_keeps_local_time(self) -> None:
        result = add_duration(ny(2026, 10, 31, 10), parse_duration("P1D"))
        assert result == ny(2026, 11, 1, 10)
        assert result - ny(2026, 10, 31, 10) == timedelta(hours=25)

    @pytest.mark.parametrize(
        ("start", "text", "expected"),
        [
            (ny(2027, 1, 31, 9), "P1M", ny(2027, 2, 28, 9)),
            (ny(2028, 1, 31, 9), "P1M", ny(2028, 2, 29, 9)),
            (ny(2028, 2, 29, 9), "P1Y", ny(2029, 2, 28, 9)),
            (ny(2028, 2, 29, 9), "P4Y", ny(2032, 2, 29, 9)),
            (ny(2026, 3, 31, 9), "P1M", ny(2026, 4, 30, 9)),
            (ny(2026, 11, 30, 9), "P3M", ny(2027, 2, 28, 9)),
            (ny(2026, 12, 15, 9), "P1M", ny(2027, 1, 15, 9)),
            (ny(2026, 1, 1), "P2W", ny(2026, 1, 15)),
            (ny(2026, 3, 7, 23, 30), "PT90M", ny(2026, 3, 8, 1, 0)),
            (ny(2026, 3, 8, 1, 30), "PT90M", ny(2026, 3, 8, 4, 0)),  # across the DST gap
            (ny(2026, 1, 1), "P1Y2M3DT4H5M6S", ny(2027, 3, 4, 4, 5, 6)),
        ],
    )
    def test_example(self, start: datetime, text: str, expected: datetime) -> None:
        assert add_duration(start, parse_duration(text)) == expected

    def test_calendar_part_then_elapsed_part(self) -> None:
        # P1DT1H from Sat 10:00 EST: P1D gives Sun 10:00 EDT, then one more elapsed hour.
        result = add_duration(ny(2026, 3, 7, 10), parse_duration("P1DT1H"))
        assert result == ny(2026, 3, 8, 11)

    def test_utc_input_uses_new_york_wall_clock(self) -> None:
        # 03:30 UTC Jan 31 is 22:30 EST Jan 30 in New York; P1M lands on Feb 28 22:30 EST.
        start = datetime(2027, 1, 31, 3, 30, tzinfo=UTC)
        assert add_duration(start, parse_duration("P1M")) == ny(2027, 2, 28, 22, 30)

    def test_landing_in_dst_gap_uses_fold_zero(self) -> None:
        result = add_duration(ny(2026, 3, 7, 2, 30), parse_duration("P1D"))
        assert result == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)

    def test_elapsed_only_keeps_second_occurrence_of_ambiguous_hour(self) -> None:
        second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST, the repeated hour
        assert add_duration(second, Duration()) == second
        assert add_duration(second, parse_duration("PT1M")) == second + timedelta(minutes=1)

    def test_landing_in_repeated_hour_uses_fold_zero(self) -> None:
        # From 01:30 EST (second occurrence) to 2027-11-07 01:30, read as the first one (EDT).
        second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
        result = add_duration(second, parse_duration("P53W"))
        assert result == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)

    def test_rejects_naive(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            add_duration(datetime.combine(date(2026, 3, 7), time(10)), Duration(days=1))

    def test_out_of_range(self) -> None:
        with pytest.raises(ValueError, match="out of range"):
            add_duration(datetime(9990, 1, 1, tzinfo=UTC), parse_duration("P20Y"))

    @PROPERTY
    @given(INSTANTS, st.integers(0, 10_000), st.integers(0, 400))
    def test_days_keep_wall_clock_and_time_part_is_elapsed(
        self, instant: datetime, seconds: int, n_days: int
    ) -> None:
        assert add_duration(instant, Duration(seconds=seconds)) == instant + timedelta(
            seconds=seconds
        )
        local = instant.astimezone(TZ)
        moved = add_duration(instant, Duration(days=n_days)).astimezone(TZ)
        assert moved.date() == local.date() + timedelta(days=n_days)
        # The wall time survives unless it lands in the spring-forward gap (read with fold=0).
        assert moved.time() == local.time() or (local.hour == 2 and moved.hour == 3)
