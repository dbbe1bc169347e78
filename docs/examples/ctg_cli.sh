# needs: data ctg/fetal_health.csv as fetal_health.csv

awk 'NR==1 || NR%5!=0' fetal_health.csv > ctg_train.csv
awk 'NR==1 || NR%5==0' fetal_health.csv > ctg_test.csv
printf '[network]\nhidden = [16]\nshift_scale = true\n[gd]\nepochs = 300\nstarts = 8\n' > ctg.toml
debinn fit --data ctg_train.csv --trainer gd --config ctg.toml --out ctg.debinn
debinn evaluate --model ctg.debinn --data ctg_test.csv
