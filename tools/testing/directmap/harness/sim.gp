# SPDX-License-Identifier: GPL-2.0
# Plot dmsim's CSV files: direct map mapped at 4K over each trace, by policy.
# gnuplot -e "dir='DIR'" sim.gp  ->  DIR/sim.png
set terminal pngcairo size 1400,900 font ",10"
set output dir."/sim.png"
set multiplot layout 2,2 title "directmap simulator: direct map mapped by 4K entries (MiB + 1, log scale)"
set logscale y
set xlabel "operation (millions)"
set ylabel "4K-mapped MiB + 1"
set key top left
set grid
do for [t in "secretmem cvm convert ro-noise"] {
	set title t
	f = dir."/sim-".t.".csv"
	plot f using ($1/1e6):($2+1) with lines lw 2 title "stock 6.12", \
	     f using ($1/1e6):($3+1) with lines lw 1 dt 2 title "mainline 6.15+", \
	     f using ($1/1e6):($4+1) with lines lw 2 title "directmap cache", \
	     f using ($1/1e6):($5+1) with lines lw 2 title "cache+collapse", \
	     f using ($1/1e6):($6+1) with lines lw 1 lc rgb "black" title "limit"
}
unset multiplot
