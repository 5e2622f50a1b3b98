// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title TradingCalendar
/// @notice Weekly trading sessions in an exchange's local time, plus holidays.
/// @dev Local time = unix time + utcOffset. Local day = floor(local / 86400) (days since 1970-01-01, a Thursday).
///      Minute of week: Monday 00:00 = 0 … Sunday 23:59 = 10079. A window is `start << 16 | end` in minutes of the
///      week, end exclusive. No windows = open 24/7 (except holidays).
library TradingCalendar {
    uint256 internal constant MINUTES_PER_WEEK = 7 * 24 * 60;
    uint256 internal constant MAX_WINDOWS = 21;
    int32 internal constant MAX_UTC_OFFSET = 14 hours;

    /// @dev closedDays: how many local days are marked closed (lets a caller skip a calendar that has none).
    struct Calendar {
        int32 utcOffset;
        uint32 closedDays;
        uint32[] windows;
        mapping(uint32 localDay => bool) holidays;
    }

    /// @notice Whether `t` (unix seconds) is inside a session, and when that session opened (unix seconds).
    /// @dev For a 24/7 calendar openedAt is 0, or the start of today when yesterday was a holiday.
    function openAt(Calendar storage cal, uint256 t) internal view returns (bool open, uint256 openedAt) {
        int256 offset = cal.utcOffset;
        // Unix times of live blocks are far beyond 14 h, so local time is positive.
        uint256 local = uint256(int256(t) + offset);
        uint256 day = local / 1 days;
        if (cal.holidays[uint32(day)]) return (false, 0);
        uint256 n = cal.windows.length;
        if (n == 0) {
            if (day > 0 && cal.holidays[uint32(day - 1)]) return (true, t - (local % 1 days));
            return (true, 0);
        }
        // 1970-01-01 was a Thursday: weekday index 3 with Monday = 0.
        uint256 minuteOfWeek = ((day + 3) % 7) * 1440 + (local % 1 days) / 60;
        for (uint256 i = 0; i < n; ++i) {
            uint32 w = cal.windows[i];
            uint256 start = w >> 16;
            uint256 end = w & 0xffff;
            if (minuteOfWeek >= start && minuteOfWeek < end) {
                return (true, t - ((minuteOfWeek - start) * 60 + (local % 60)));
            }
        }
        return (false, 0);
    }

    /// @notice Index of the first malformed window, or type(uint256).max when all are sorted, disjoint and in range.
    function firstInvalidWindow(uint32[] calldata windows) internal pure returns (uint256) {
        if (windows.length > MAX_WINDOWS) return MAX_WINDOWS;
        uint256 previousEnd = 0;
        for (uint256 i = 0; i < windows.length; ++i) {
            uint256 start = windows[i] >> 16;
            uint256 end = windows[i] & 0xffff;
            if (start >= end || end > MINUTES_PER_WEEK || (i > 0 && start < previousEnd)) return i;
            previousEnd = end;
        }
        return type(uint256).max;
    }
}
