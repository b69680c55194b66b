package workcal

import "math"

// The Vietnamese lunisolar calendar, computed astronomically at UTC+7 (the
// algorithm published by Hồ Ngọc Đức, after Meeus, "Astronomical
// Algorithms"): a month starts on the day of the new moon in Vietnam's time
// zone, month 11 is the month containing the winter solstice, and a year of
// 13 months repeats the first month that contains no major solar term.

const vnOffsetHours = 7.0

// jdFromDate returns the Julian day number of a Gregorian date.
func jdFromDate(d, m, y int) int {
	a := (14 - m) / 12
	yy := y + 4800 - a
	mm := m + 12*a - 3
	jd := d + (153*mm+2)/5 + 365*yy + yy/4 - yy/100 + yy/400 - 32045
	if jd < 2299161 {
		jd = d + (153*mm+2)/5 + 365*yy + yy/4 - 32083
	}
	return jd
}

// jdToDate returns the Gregorian date of a Julian day number.
func jdToDate(jd int) (d, m, y int) {
	var b, c int
	if jd > 2299160 {
		a := jd + 32044
		b = (4*a + 3) / 146097
		c = a - (b*146097)/4
	} else {
		c = jd + 32082
	}
	dd := (4*c + 3) / 1461
	e := c - (1461*dd)/4
	mm := (5*e + 2) / 153
	d = e - (153*mm+2)/5 + 1
	m = mm + 3 - 12*(mm/10)
	y = b*100 + dd - 4800 + mm/10
	return d, m, y
}

// newMoon returns the Julian date (UTC) of the k-th new moon after 1900-01-01.
func newMoon(k int) float64 {
	kf := float64(k)
	t := kf / 1236.85
	t2, t3 := t*t, t*t*t
	dr := math.Pi / 180
	jd1 := 2415020.75933 + 29.53058868*kf + 0.0001178*t2 - 0.000000155*t3
	jd1 += 0.00033 * math.Sin((166.56+132.87*t-0.009173*t2)*dr)
	m := 359.2242 + 29.10535608*kf - 0.0000333*t2 - 0.00000347*t3
	mpr := 306.0253 + 385.81691806*kf + 0.0107306*t2 + 0.00001236*t3
	f := 21.2964 + 390.67050646*kf - 0.0016528*t2 - 0.00000239*t3
	c1 := (0.1734-0.000393*t)*math.Sin(m*dr) + 0.0021*math.Sin(2*dr*m)
	c1 -= 0.4068*math.Sin(mpr*dr) + 0.0161*math.Sin(dr*2*mpr)
	c1 -= 0.0004 * math.Sin(dr*3*mpr)
	c1 += 0.0104*math.Sin(dr*2*f) - 0.0051*math.Sin(dr*(m+mpr))
	c1 -= 0.0074*math.Sin(dr*(m-mpr)) + 0.0004*math.Sin(dr*(2*f+m))
	c1 -= 0.0004*math.Sin(dr*(2*f-m)) - 0.0006*math.Sin(dr*(2*f+mpr))
	c1 += 0.0010*math.Sin(dr*(2*f-mpr)) + 0.0005*math.Sin(dr*(2*mpr+m))
	var deltaT float64
	if t < -11 {
		deltaT = 0.001 + 0.000839*t + 0.0002261*t2 - 0.00000845*t3 - 0.000000081*t*t3
	} else {
		deltaT = -0.000278 + 0.000265*t + 0.000262*t2
	}
	return jd1 + c1 - deltaT
}

// newMoonDay returns the local day number of the k-th new moon.
func newMoonDay(k int) int {
	return int(math.Floor(newMoon(k) + 0.5 + vnOffsetHours/24))
}

// sunLongitude returns the sun's apparent longitude in radians at Julian date jdn.
func sunLongitude(jdn float64) float64 {
	t := (jdn - 2451545.0) / 36525
	t2 := t * t
	dr := math.Pi / 180
	m := 357.52910 + 35999.05030*t - 0.0001559*t2 - 0.00000048*t*t2
	l0 := 280.46645 + 36000.76983*t + 0.0003032*t2
	dl := (1.914600 - 0.004817*t - 0.000014*t2) * math.Sin(dr*m)
	dl += (0.019993-0.000101*t)*math.Sin(dr*2*m) + 0.000290*math.Sin(dr*3*m)
	l := (l0 + dl) * dr
	return l - 2*math.Pi*math.Floor(l/(2*math.Pi))
}

// sunSector returns which of the 12 major solar terms' sectors (0–11) the
// sun is in at the start of the local day.
func sunSector(day int) int {
	return int(math.Floor(sunLongitude(float64(day)-0.5-vnOffsetHours/24) / math.Pi * 6))
}

// lunarMonth11 returns the day number of the start of lunar month 11 (the
// month of the winter solstice) of Gregorian year y.
func lunarMonth11(y int) int {
	off := float64(jdFromDate(31, 12, y) - 2415021)
	k := int(math.Floor(off / 29.530588853))
	nm := newMoonDay(k)
	if sunSector(nm) >= 9 {
		nm = newMoonDay(k - 1)
	}
	return nm
}

// leapMonthOffset returns the offset from month 11 of the leap month in a
// 13-month year starting at a11.
func leapMonthOffset(a11 int) int {
	k := int(math.Floor((float64(a11)-2415021.076998695)/29.530588853 + 0.5))
	i := 1
	arc := sunSector(newMoonDay(k + i))
	for {
		last := arc
		i++
		arc = sunSector(newMoonDay(k + i))
		if arc == last || i >= 14 {
			break
		}
	}
	return i - 1
}

// LunarToSolar returns the Gregorian date (year, month, day) of a day of
// the Vietnamese lunar calendar; leap asks for the leap month of that
// number. ok is false for a leap month that the year does not have.
func LunarToSolar(lunarYear, lunarMonth, lunarDay int, leap bool) (y, m, d int, ok bool) {
	var a11, b11 int
	if lunarMonth < 11 {
		a11, b11 = lunarMonth11(lunarYear-1), lunarMonth11(lunarYear)
	} else {
		a11, b11 = lunarMonth11(lunarYear), lunarMonth11(lunarYear+1)
	}
	k := int(math.Floor(0.5 + (float64(a11)-2415021.076998695)/29.530588853))
	off := lunarMonth - 11
	if off < 0 {
		off += 12
	}
	if b11-a11 > 365 {
		leapOff := leapMonthOffset(a11)
		leapMonth := leapOff - 2
		if leapMonth < 0 {
			leapMonth += 12
		}
		if leap && lunarMonth != leapMonth {
			return 0, 0, 0, false
		}
		if leap || off >= leapOff {
			off++
		}
	} else if leap {
		return 0, 0, 0, false
	}
	d, m, y = jdToDate(newMoonDay(k+off) + lunarDay - 1)
	return y, m, d, true
}
