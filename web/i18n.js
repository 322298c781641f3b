// The console's words in English and Japanese; the browser's language chooses, as LANG does for the CLI.
window.KANRI_TEXT = {
  en: {
    login: 'Token', signin: 'Sign in', logout: 'Sign out', groups: 'Groups and machines', alerts: 'Alerts', jobs: 'Running jobs', events: 'Event log',
    machine: 'Machine', group: 'Group', host: 'Host', power: 'Power', hardware: 'Hardware', management: 'Management', maintenance: 'Maintenance',
    none: 'none', controller: 'Controller', history: 'History', sensors: 'Read sensors', status: 'Status', time: 'Time', message: 'Message', job: 'Job', progress: 'Progress',
    actions: 'Actions', confirm: 'Run it', cancel: 'Cancel', recent: 'Recent jobs', pool: 'pool', operator: 'operator (read only)', administrator: 'administrator',
    poweron: 'Power on', shutdown: 'Shut down', reboot: 'Reboot', addMachine: 'Add a machine', deleteMachine: 'Release this machine', replaceMachine: 'Replace this machine',
    willRun: 'This will change:', badToken: 'The token was refused.', summary: 'At a glance', machines: 'machines', sequence: 'Sequence', started: 'Job started',
    refused: 'Refused',
  },
  ja: {
    login: 'トークン', signin: 'サインイン', logout: 'サインアウト', groups: 'グループとマシン', alerts: 'アラート', jobs: '実行中のジョブ', events: 'イベントログ',
    machine: 'マシン', group: 'グループ', host: 'ホスト', power: '電源', hardware: 'ハードウェア', management: '管理状態', maintenance: 'メンテナンス',
    none: 'なし', controller: 'コントローラ', history: '履歴', sensors: 'センサーを読む', status: '状態', time: '時刻', message: 'メッセージ', job: 'ジョブ', progress: '進捗',
    actions: '操作', confirm: '実行する', cancel: 'キャンセル', recent: '最近のジョブ', pool: 'プール', operator: 'オペレータ (参照のみ)', administrator: '管理者',
    poweron: '電源オン', shutdown: 'シャットダウン', reboot: '再起動', addMachine: 'マシンを追加', deleteMachine: 'このマシンを解放', replaceMachine: 'このマシンを置換',
    willRun: '次の変更を行います:', badToken: 'トークンが拒否されました。', summary: '概要', machines: '台', sequence: 'シーケンス', started: 'ジョブ開始',
    refused: '拒否されました',
  },
};
